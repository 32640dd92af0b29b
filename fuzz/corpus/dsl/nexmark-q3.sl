# Nexmark q3, local item suggestion: who sells in category 10 from Oregon,
# Idaho or California.  Topics and JSON fields: /work/notes/nexmark-schema.md
# (persons keyed by id, auctions keyed by id, event time = dateTime).
#
# Output (topic nexmark-q3, JSON, key = the seller id): one row per auction of
# category 10 whose seller lives in OR, ID or CA:
#   {"name": "...", "city": "...", "state": "OR", "id": <auction id>}
#
# A stream-table join: each auction looks its seller up in the person table
# as it is when the auction is processed (Nexmark creates a person before any
# of their auctions, so in event-time order every seller is there).
stream auction from topic "nexmark-auction" format json timestamp dateTime;
table person from topic "nexmark-person" format json;

stream q3 = auction
  | filter category = 10
  | select_key seller                       # repartitioned by seller before the join
  | join person on key = person.key
  | filter person.state in ("OR", "ID", "CA")
  | map { name: person.name, city: person.city, state: person.state, id };

output q3 to topic "nexmark-q3" format json;
