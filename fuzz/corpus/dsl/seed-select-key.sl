stream orders from topic "orders";
stream a = orders | select_key user.id;
stream b = orders | rekey concat(key, "-", string(total % 7));
output a to topic "a";
output b to topic "b";
