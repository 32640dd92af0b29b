stream lines from topic "lines" format string;
stream words = lines | flat_map split(lower(value), " ") as word;
output words to topic "w" format string;
