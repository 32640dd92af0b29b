# Nexmark q8, monitor new users: persons who created an auction in the same
# tumbling 10-second window in which they registered (auction.seller =
# person.id).
#
# Output (topic nexmark-q8, JSON, key = the person id): one row per such
# auction, as soon as both sides have arrived:
#   {"id": 1003, "name": "...", "reserve": 12000}
#
# A stream-stream join within 10 seconds (any two events of one 10-second
# window are less than 10 seconds apart) and then the same-window test.  The
# grace lets a record arrive up to a minute behind the other topic's stream
# time (the runtime reads the two topics in chunks).
stream person from topic "nexmark-person" format json timestamp dateTime;
stream auction from topic "nexmark-auction" format json timestamp dateTime;

stream q8 = auction
  | select_key seller                       # repartitioned by seller before the join
  | join person on key = person.key within 10 seconds grace 1 minute
  | filter floor(person.dateTime / 10000) = floor(dateTime / 10000)
  | map { id: person.id, name: person.name, reserve };

output q8 to topic "nexmark-q8" format json;
