-- A login flood with a wrong admin password (what a password guesser sends).
wrk.method = "POST"
wrk.body = '{"account":"admin","password":"WRONG-WRONG-WRONG"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Nureva-Client-Id"] = "bench-flood"
wrk.headers["Nureva-Client-Version"] = "1"
