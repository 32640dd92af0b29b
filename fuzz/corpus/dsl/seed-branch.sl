stream orders from topic "orders";
stream routed = orders | branch { big: total > 100, rest: true };
stream big = routed.big;
stream rest = routed.rest | filter total >= 0;
output big to topic "big-orders" format msgpack;
output rest to topic "rest";
