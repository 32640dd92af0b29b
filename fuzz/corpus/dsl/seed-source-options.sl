stream clicks from topic "clicks" format json key user timestamp ts;
stream orders from topic "orders" format msgpack;
stream raw from topic "raw" format bytes;
output clicks to topic "c";
output orders to topic "o" format msgpack;
output raw to topic "r" format bytes;
