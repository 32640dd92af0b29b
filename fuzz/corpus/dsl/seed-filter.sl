stream orders from topic "orders";
stream big = orders | filter amount > 100 and country in ("DE", "FR") or not (x <= 2.5);
output big to topic "big";
