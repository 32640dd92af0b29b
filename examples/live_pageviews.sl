# live page views (the job of `make demo`): each view enriched with its user's
# name and region, and two queryable tables kept up to date as views arrive
stream views from topic "page-views" format json key user;
table users from topic "users" format json;
stream enriched = views
  | left join users on views.user = users.key
  | map { user, page, name: users.name, region: users.region };
table views_per_region = enriched
  | group by region
  | count;
table views_per_user = views
  | group by user
  | count;
output enriched to topic "enriched-views" format json;
output views_per_region to topic "views-per-region" format json;
