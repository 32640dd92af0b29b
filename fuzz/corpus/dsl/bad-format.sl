stream a from topic "a" format yaml;
output a to topic "n" format xml;
