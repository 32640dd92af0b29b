stream lines from topic "text-lines" format string;
output lines to topic "out";
