stream orders from topic "orders";
stream payments from topic "payments";
stream j = orders | left join payments on orders.key = payments.key within 1 hour;
stream k = orders | outer join payments on orders.key = payments.key within 30 s;
stream i = orders | inner join payments on orders.key = payments.key within 2 days;
output j to topic "j";
output k to topic "k";
output i to topic "i";
