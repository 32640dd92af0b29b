table u from topic "u" ttl 0 ms;
table t = u | group by x | top 0 by y;
stream s = u | join u on key = u.key grace 1 s;
table w = u | group by x | aggregate { a: argmax(), b: top(1) };
