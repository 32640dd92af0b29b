stream orders from topic "orders";
table s = orders | group by region | sum amount;
table mn = orders | group by region | min amount;
table mx = orders | group by region | max amount;
table av = orders | group by region | avg amount;
output s to topic "s";
output av to topic "av";
