# Nexmark q5, hot items: in every hopping window of 10 seconds advancing by 2
# seconds, the auctions with the most bids.
#
# Output (topic nexmark-q5, JSON, key = [window_start, window_end]): one row
# per window, updated as that window's counts arrive (the latest record of a
# window is its result; every auction tied for the most bids is listed, in
# the order their counts arrived):
#   {"window_start": 0, "window_end": 10000, "auctions": [1007, 1012], "num": 31}
#
# The counts are emitted final (once per auction and window, when the window
# closes), so grouping them by window needs no retractions and the ranking
# keeps only the leaders.
stream bid from topic "nexmark-bid" format json timestamp dateTime;

table bids_per_window = bid
  | group by auction
  | window hopping 10 seconds advance 2 seconds
  | count
  | emit final;

table q5 = bids_per_window
  | group by window_start, window_end
  | aggregate { auctions: argmax(count, auction), num: max(count) };

output q5 to topic "nexmark-q5" format json;
