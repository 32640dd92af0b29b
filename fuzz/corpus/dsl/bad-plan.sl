stream a from topic "a";
stream b from topic "b";
stream j = a | join b on a.key = b.key;
table x = a | count;
stream y = a | group by k;
table z = a | group by k | window hopping 1 m | count | emit final | filter true;
stream a from topic "dup";
