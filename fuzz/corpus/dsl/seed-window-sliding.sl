stream clicks from topic "clicks";
table v = clicks | group by page | window sliding 1 hour | max n;
output v to topic "v";
