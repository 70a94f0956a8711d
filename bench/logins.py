"""Password logins against a running roomgate, with its RSS watched meanwhile.

    python3 logins.py PORT CA_PEM ACCOUNT PASSWORD MODE N PID

MODE "parallel" starts N logins at once (one thread and one new TLS connection each);
"sequential" makes N logins one after another, each on a new TLS connection, as a
room controller (or curl) does. While they run, the RSS of PID is read every 5 ms.
Every login must answer 200 with authParameters. Prints one line:

    logins N ok N median_ms M p90_ms P max_ms X peak_kib K
"""
import http.client
import json
import ssl
import statistics
import sys
import threading
import time

HEADERS = {
    "Content-Type": "application/json",
    "Nureva-Client-Id": "bench",
    "Nureva-Client-Version": "1",
}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def login(port, ctx, body):
    """One login on a new connection: (seconds, succeeded)."""
    start = time.perf_counter()
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
    try:
        conn.request("POST", "/api/v1/auth/login", body=body, headers=HEADERS)
        resp = conn.getresponse()
        answer = resp.read()
        ok = resp.status == 200 and "authParameters" in json.loads(answer)
    except (OSError, ValueError, http.client.HTTPException):
        ok = False
    finally:
        conn.close()
    return time.perf_counter() - start, ok


def main():
    port, ca, account, password, mode, n, pid = sys.argv[1:8]
    port, n, pid = int(port), int(n), int(pid)
    ctx = ssl.create_default_context(cafile=ca)
    body = json.dumps({"account": account, "password": password})
    peak = rss_kib(pid)
    done = threading.Event()

    def watch():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    results = []
    if mode == "parallel":
        lock = threading.Lock()
        go = threading.Barrier(n)

        def one():
            go.wait()
            r = login(port, ctx, body)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        results = [login(port, ctx, body) for _ in range(n)]
    done.set()
    watcher.join()
    peak = max(peak, rss_kib(pid))
    times = sorted(t * 1000 for t, _ in results)
    ok = sum(1 for _, good in results if good)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(
        f"logins {n} ok {ok} median_ms {statistics.median(times):.1f} "
        f"p90_ms {p90:.1f} max_ms {times[-1]:.1f} peak_kib {peak}"
    )


if __name__ == "__main__":
    main()
