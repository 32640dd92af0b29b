# suspicious payments: a payment and a login of the same user from different
# countries within 5 minutes of each other (stream-stream join)
stream payments from topic "payments" format json key user timestamp ts;
stream logins from topic "logins" format json key user timestamp ts;
stream suspicious = payments
  | join logins on payments.user = logins.key within 5 minutes
  | filter country != logins.country
  | map { user, payment: id, amount, payment_country: country, payment_ts: ts,
          login_country: logins.country, login_ts: logins.ts };
output suspicious to topic "suspicious-payments" format json;
