stream orders from topic "orders";
stream routed = orders | branch { big: total > 100, rest: true };
output routed.big to topic "big-orders" format msgpack;
output routed.rest to topic "rest";
