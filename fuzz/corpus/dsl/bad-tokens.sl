@@ ;; stream 123 = | | | ; output ; table t = t.t.t[ ;
