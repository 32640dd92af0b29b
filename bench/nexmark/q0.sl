# Nexmark q0: pass-through.  Every bid, unchanged (the cost of reading,
# decoding, re-encoding and writing a record with exactly-once commits).
stream bids from topic "nexmark-bid" format json;
output bids to topic "nexmark-q0" format json;
