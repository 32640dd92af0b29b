stream a from topic "a
stream b = a | map { x: "\uD800", y: [1, 2
