stream clicks from topic "clicks" key user;
table users from topic "users";
stream e = clicks | left join users on clicks.user = users.key;
output e to topic "e";
