# click enrichment: each click joined with its user's row (stream-table join)
stream clicks from topic "clicks" format json key user;
table users from topic "users" format json;
stream enriched = clicks
  | left join users on clicks.user = users.key
  | map { user, page, name: users.name, region: users.region };
output enriched to topic "enriched-clicks" format json;
