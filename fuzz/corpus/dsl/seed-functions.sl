stream e from topic "e";
stream f = e | map { a: if(x > 1, "y", "n"), b: coalesce(y, 0), c: upper(trim(s)), d: length(tags), g: substr(s, -3, 2), h: contains(tags, 1), i: starts_with(s, "a"), j: ends_with(s, "z"), k: abs(-3) + round(2.5) - floor(1.5) * ceil(0.2), l: parse_time("2026-11-25T14:05:00Z"), m: format_time(0), n: 7 / 2, o: null, p: true, q: false, r: -1e3 };
output f to topic "f";
