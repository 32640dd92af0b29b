# Nexmark q2: selection.  The auction and price of every bid on an auction
# whose id is a multiple of 123.
stream bids from topic "nexmark-bid" format json;
stream q2 = bids | filter auction % 123 = 0 | map { auction, price };
output q2 to topic "nexmark-q2" format json;
