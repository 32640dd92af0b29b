# Nexmark q4, average closing price per category: the winning bid of an
# auction is its highest bid among those with dateTime in [auction.dateTime,
# auction.expires); the query averages the winning bids per category.
#
# Output (topic nexmark-q4, JSON, key = the category): a table's changelog -
# the latest record of a category holds its average so far:
#   {"category": 10, "avg": 1234.5}
#
# `winning` is a table (one row per auction, its best bid so far); grouping it
# by category takes an auction's old best bid out of the average before adding
# the new one (a grouped table), so the average stays exact as bids arrive.
stream bid from topic "nexmark-bid" format json timestamp dateTime;
table auctions from topic "nexmark-auction" format json;

table winning = bid
  | join auctions on key = auctions.key     # bids are keyed by auction id
  | filter dateTime >= auctions.dateTime and dateTime < auctions.expires
  | group by auction, auctions.category
  | aggregate { final: max(price) };

table q4 = winning
  | group by category
  | avg final;

output q4 to topic "nexmark-q4" format json;
