stream orders from topic "orders";
table c = orders | group by region, city | count();
output c to topic "c";
