stream clicks from topic "clicks" timestamp ts;
table v = clicks | group by page | window tumbling 1 minute grace 10 seconds | count | emit final;
output v to topic "v";
