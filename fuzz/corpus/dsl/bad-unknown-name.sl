table c = lnes | group by value | count;
