stream web_clicks from topic "web";
stream app_clicks from topic "app";
stream other from topic "other";
stream all = other | merge web_clicks, app_clicks;
output all to topic "all";
