# sessionised user activity: events of a user less than 5 minutes apart form
# one session; one record per session once it has closed
stream activity from topic "activity" format json key user timestamp ts;
table sessions = activity
  | group by user
  | window session 5 minutes
  | count
  | emit final;
output sessions to topic "user-sessions" format json;
