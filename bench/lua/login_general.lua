-- A login flood with the right (factory: empty) general password: every request
-- costs a full argon2 hash, and the login throttle never applies.
wrk.method = "POST"
wrk.body = '{"account":"general","password":""}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Nureva-Client-Id"] = "bench-flood"
wrk.headers["Nureva-Client-Version"] = "1"
