# Nexmark q7, highest bid: in every tumbling window of 10 seconds, the bids
# whose price is the window's highest.
#
# Output (topic nexmark-q7, JSON): one row per winning bid (several when
# prices tie), written once, when its window closes:
#   {"auction": 1007, "price": 95000, "bidder": 1003, "dateTime": 1700000004000, "extra": "...",
#    "window_start": 1700000000000, "window_end": 1700000010000}
stream bid from topic "nexmark-bid" format json timestamp dateTime;

table highest = bid
  | group by "all"                          # one group: the maximum of each whole window
  | window tumbling 10 seconds
  | aggregate { bids: argmax(price, {auction, price, bidder, dateTime, extra}) }
  | emit final;

stream q7 = highest
  | flat_map bids as b
  | map { auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra,
          window_start, window_end };

output q7 to topic "nexmark-q7" format json;
