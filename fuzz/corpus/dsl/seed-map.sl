stream orders from topic "orders";
stream m = orders | map { id, total: price * qty, tags: [a, b], o: {k: "v\n\u00e9\ud83d\ude00"}, t: tags[-1], f: obj["key"] };
output m to topic "m";
