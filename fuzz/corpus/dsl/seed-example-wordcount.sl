# word count
stream lines from topic "text-lines" format string;
table word_counts = lines
  | flat_map split(lower(value), " ") as word
  | filter word != ""
  | group by word
  | count;
output word_counts to topic "word-counts" format json;
