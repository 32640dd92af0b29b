# windowed page views, enriched by a table
stream clicks from topic "clicks" format json key user timestamp ts;
table users from topic "users" format json;
table views = clicks
  | join users on clicks.user = users.key
  | group by users.region
  | window tumbling 1 minute grace 10 seconds
  | aggregate { views: count(), last_page: last(page), max_ts: max(ts) }
  | emit final;
output views to topic "views-by-region";
