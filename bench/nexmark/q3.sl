# Nexmark q3, local item suggestion: who sells in category 10 from Oregon,
# Idaho or California.  Topics and JSON fields: /work/notes/nexmark-schema.md
# (persons keyed by id, auctions keyed by id, event time = dateTime).
#
# Output (topic nexmark-q3, JSON, key = the seller id): one row per auction of
# category 10 whose seller lives in OR, ID or CA:
#   {"name": "...", "city": "...", "state": "OR", "id": <auction id>}
#
# A regular (unwindowed) join as Nexmark/Flink define q3: both sides are kept,
# so an auction matches its seller whichever of the two comes first in event
# time.  The generator does let an auction name a seller up to 10 persons ahead
# (Beam's person lead), so a stream-table lookup in event-time order would
# miss those; a stream-stream join with a window of a century keeps both sides
# and emits each match once.
stream auction from topic "nexmark-auction" format json timestamp dateTime;
stream person from topic "nexmark-person" format json timestamp dateTime;

stream q3 = auction
  | filter category = 10
  | select_key seller                       # repartitioned by seller before the join
  | join person on key = person.key within 36500 days   # a regular join: both sides kept
  | filter person.state in ("OR", "ID", "CA")
  | map { name: person.name, city: person.city, state: person.state, id };

output q3 to topic "nexmark-q3" format json;
