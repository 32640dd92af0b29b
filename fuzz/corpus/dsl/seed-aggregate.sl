stream clicks from topic "clicks";
table a = clicks | group by user | aggregate { n: count(), s: sum(x), lo: min(x), hi: max(x), m: avg(x), d: count_distinct(page), f: first(page), l: last(page) };
output a to topic "a";
