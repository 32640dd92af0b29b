stream bid from topic "b" format json;
table highest = bid | group by "all" | window tumbling 10 seconds
  | aggregate { bids: argmax(price, {auction, price, bidder}), n: count() } | emit final;
stream winners = highest | flat_map bids as b | map { auction: b.auction, price: b.price, window_start };
table users from topic "users" format json ttl 30 days;
stream clicks from topic "c" format json;
table pages = clicks | group by page | count | ttl 1 day;
table regions = users | group by region | count | ttl 1 hour;
table by_region = users | group by region
  | aggregate { n: count(), oldest: max(age), mean: avg(age) };
table plans from topic "plans" format json;
table both = users | outer join plans on users.key = plans.key;
stream enriched = clicks | join users on key = users.key | left join plans on key = plans.key;
table counts = bid | group by auction | window hopping 10 seconds advance 2 seconds | count;
table t3 = counts | group by window_start | top 3 by count desc;
