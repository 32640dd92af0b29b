stream a from topic "a";
stream b = a | filter a < b < c;
