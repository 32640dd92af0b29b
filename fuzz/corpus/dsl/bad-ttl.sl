stream a from topic "a";
table t = a | group by x | count | ttl 1 hour;
