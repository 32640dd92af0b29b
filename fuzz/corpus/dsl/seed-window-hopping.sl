stream clicks from topic "clicks";
table v = clicks | group by page | window hopping 10 minutes advance 1 minute | sum n | emit changes;
output v to topic "v";
