# top-N per window, for N = 1: the most viewed page of each 1-minute window.
# Ranking needs an aggregation over an aggregated table, which the DSL does
# not plan yet ("grouping a table is not supported yet; group a stream"), so
# the per-window counts go to a topic that the job reads back as a stream;
# max() of [count, page] keeps the top entry (ties: the greater page name).
# A true top-N (N > 1) needs a collecting aggregate that the DSL lacks.
stream views from topic "page-views" format json key page timestamp ts;
table page_counts = views
  | group by page
  | window tumbling 1 minute
  | count
  | emit final;
output page_counts to topic "page-counts-per-minute" format json;
stream counted from topic "page-counts-per-minute" format json timestamp window_start;
table top_page = counted
  | group by window_start
  | aggregate { top: max([count, page]), pages: count() };
output top_page to topic "top-page-per-minute" format json;
