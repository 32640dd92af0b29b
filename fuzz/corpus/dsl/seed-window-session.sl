stream clicks from topic "clicks";
table a = clicks | group by user | window session 5 minutes | count;
table b = clicks | group by user | window session gap 500ms | avg n;
output a to topic "a";
output b to topic "b";
