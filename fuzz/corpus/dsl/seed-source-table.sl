table users from topic "users" format json;
output users to topic "users-copy";
