# Nexmark q1: currency conversion.  Each bid with its price in euros
# (dollars * 0.908, as the Nexmark specification converts).
stream bids from topic "nexmark-bid" format json;
stream q1 = bids | map { auction, bidder, price: price * 0.908, dateTime, extra };
output q1 to topic "nexmark-q1" format json;
