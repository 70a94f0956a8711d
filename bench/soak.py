"""A compressed day in a room: the driver of bench/soak.sh.

    python3 soak.py --bin ROOMGATE --config CONFIG --log LOG --pid PID --port PORT \
                    --minutes M --out DIR [--interval SECONDS]

roomgate must already be running (soak.sh starts it) with the config CONFIG, its
stderr going to LOG. Everything runs concurrently, over HTTPS to 127.0.0.1 with the
device certificate as the CA, for M minutes:

- 8 room control systems, each on its own keep-alive connection with its own API key
  (created at the console), GET /api/v1/audio every 2 s and now and then
  GET /api/v1/status; three of them also change the volume
  (PUT /api/v1/audio/volume/change) or PATCH /api/v1/audio (bass level) now and then.
  Every request's latency is recorded; "polls" are the GETs.
- event streams (GET /api/v1/events, a general API key) and data streams
  (GET /api/v1/data?events=soundLocation,deviceMetrics, a monitor API key: monitor
  has no password, so it gets a key as in the README's Prometheus setup), two or three
  open at a time, each read for 10-60 s and closed; frames are counted.
- logins as general with the right password (set at the console), each used once,
  half of them logged out (the credential must then answer 401), and now and then a
  wrong password first (401, or 429 once throttled: expected). The first round, in
  the warm-up, makes two logins at once (the hasher's peak, hash_concurrency = 2).
- API key rotation: a key created at the console, used, the previous one revoked at
  the console (must answer 401 within 3 s); a key created, used and revoked through
  the API as admin (must answer 401 at once).
- changes: the integrator account enabled/disabled at the console (its key must
  follow within 3 s), a policy change through the API, and the config file edited
  then `kill -HUP`; requests sent every 100 ms around the reload, on a kept-alive
  connection and on new ones, must all succeed, and the log must say it reloaded.
- hostile clients (a child process at nice 10: on a real network they would use
  their own CPU, not the device's): slowloris (half a request head, stalled, and
  one byte a second), garbage bytes instead of TLS, plain HTTP on the HTTPS port,
  TCP connections that never send a byte, oversized bodies, unauthenticated-stream
  hogging, and a burst of bad API keys and wrong admin passwords. Their refusals
  are expected results; a refusal that does not come is an unexpected failure.

Every simulated client connects from its own loopback address (127.0.0.11, ...), as
separate devices on a room network would, so per-address limits apply to each of
them separately and none needs to be lifted.

The intervals of the periodic activities (login ~30 s, key rotation ~2 min, changes
~4 min, hostile episode ~5 min) are those of a 30-minute run; shorter runs compress
them (down to a fifth) so that each still happens a few times. Every activity runs
at least once during the warm-up.

Samples, every --interval seconds (default: the run / 60, between 2 and 30 s):
time, RSS (VmRSS), open descriptors, the state file's size, the polls of the
interval with their p50/p99/max latency, and the unexpected failures.

Descriptors: every connection a client holds open is one descriptor in the server,
and event streams come and go, so the raw count moves with the workload. The figure
judged is the count minus the server's sockets that are ESTABLISHED TCP connections
on its port (from /proc/PID/fd and /proc/net/tcp, read together): that is,
minus the connections whose client end is still open. A leaked connection (one the
client has closed but the server has not: CLOSE_WAIT) stays in the figure, as does
any leaked file, pipe or timer.

Verdict (the warm-up is the first 20 % of the run, at most 3 minutes):
- growth after warm-up = median of the last 3 samples - median of the 3 samples
  ending at the end of the warm-up: RSS <= 1 MiB, descriptors <= 0, state file
  <= 1 MiB. (The median on both sides, so that one sample taken while an argon2 hash
  holds its 19 MiB buffer, kept limits.hash_memory_keep = 1 s after the last hash,
  moves neither end.)
- the p99 of the polls of every interval after the warm-up < 20 ms;
- unexpected failures = 0 (the whole run, warm-up included).

Writes to DIR: soak.csv (the samples), soak.png (RSS, descriptors and poll latency
over time; needs matplotlib), polls.csv (every poll and setting change with its
latency), activity.csv (when each periodic activity and stream ran, to line latency
spikes up with what happened) and failures.txt; prints the table in Markdown; exits 1
if a figure fails.
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter

CLIENT = {"Nureva-Client-Id": "soak", "Nureva-Client-Version": "1"}
N_POLLERS = 8
POLL_PERIOD = 2.0
P99_TARGET_MS = 20.0
RSS_GROWTH_KIB = 1024
STATE_GROWTH_BYTES = 1024 * 1024
FD_GROWTH = 0
PROPAGATION = 3.0  # a console change must reach the running service within this

# One loopback address per simulated client (all of 127/8 is the loopback device).
POLLER_ADDR = [f"127.0.0.{11 + i}" for i in range(N_POLLERS)]
STREAM_ADDR = ["127.0.0.31", "127.0.0.32", "127.0.0.33"]
LOGIN_ADDR = "127.0.0.41"
KEYS_ADDR = "127.0.0.42"
ADMIN_ADDR = "127.0.0.51"
CHANGE_ADDR = "127.0.0.52"
HOSTILE_ADDR = "127.0.0.66"


def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Conn:
    """A keep-alive HTTPS connection from a given source address."""

    def __init__(self, port, ctx, source, timeout=10.0):
        self.port, self.ctx, self.source, self.timeout = port, ctx, source, timeout
        self.c = None
        self.reconnects = -1

    def request(self, method, path, auth=None, body=None, headers=None):
        """-> (status, headers, body bytes, milliseconds). Raises on transport errors."""
        if self.c is None:
            self.c = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.ctx, timeout=self.timeout, source_address=(self.source, 0)
            )
            self.reconnects += 1
        h = dict(CLIENT)
        if auth:
            h["Authorization"] = "Nureva " + auth
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            started = time.perf_counter()
            self.c.request(method, path, body=body, headers=h)
            r = self.c.getresponse()
            data = r.read()
            ms = (time.perf_counter() - started) * 1000
        except Exception:
            self.close()
            raise
        if r.will_close:
            self.close()
        return r.status, r.headers, data, ms

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def one_request(port, ctx, source, method, path, auth=None, body=None):
    c = Conn(port, ctx, source)
    try:
        return c.request(method, path, auth, body)
    finally:
        c.close()


def short(data, n=160):
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return text[:n].replace("\n", " ")


def p_rank(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


# --------------------------------------------------------------------------------
# Child process: the room control systems.


def pollers_main(a):
    ctx = tls_context(a.ca)
    keys = sys.stdin.readline().strip().split(",")
    lock = threading.Lock()

    def emit(rec):
        with lock:
            sys.stdout.write(json.dumps(rec) + "\n")
            sys.stdout.flush()

    def poller(i):
        rng = random.Random(i)
        conn = Conn(a.port, ctx, POLLER_ADDR[i])
        next_t = time.monotonic() + rng.uniform(0, POLL_PERIOD)
        n = writes = 0
        while True:
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.time() >= a.end:
                break
            next_t += POLL_PERIOD
            n += 1
            method, path, body, kind = "GET", "/api/v1/audio", None, "audio"
            if n % 15 == 8:
                path, kind = "/api/v1/status", "status"
            elif i < 3 and n % 20 == 3 + 4 * i:
                writes += 1
                if writes % 2:
                    op = "increment" if writes % 4 == 1 else "decrement"
                    method, path, body, kind = "PUT", "/api/v1/audio/volume/change", {"operation": op}, "volume"
                else:
                    method, body, kind = "PATCH", {"speakerBassLevel": rng.randrange(40, 61)}, "patch"
            rec = {"t": time.time(), "kind": kind, "src": POLLER_ADDR[i]}
            try:
                status, _, data, ms = conn.request(method, path, keys[i], body)
                rec.update(ms=ms, status=status)
                ok = status == 200
                if ok and kind == "audio":
                    ok = b'"speakerVolume"' in data
                elif ok and kind == "status":
                    ok = b'"leds"' in data
                rec["ok"] = ok
                if not ok:
                    rec["detail"] = short(data)
            except Exception as e:  # noqa: BLE001 - every transport error is a failed poll
                rec.update(ok=False, status=None, detail=repr(e))
            if time.monotonic() > next_t:  # fell behind (e.g. a stall): no catch-up burst
                next_t = time.monotonic() + POLL_PERIOD
            emit(rec)
        emit({"reconnects": conn.reconnects, "src": POLLER_ADDR[i]})
        conn.close()

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --------------------------------------------------------------------------------
# Child process: one hostile episode. Prints one JSON object: expected outcomes
# (counted) and unexpected ones (listed).


def hostile_main(a):
    ctx = tls_context(a.ca)
    port = a.port
    lock = threading.Lock()
    expected = Counter()
    unexpected = []

    def ok(what):
        with lock:
            expected[what] += 1

    def bad(what, detail):
        with lock:
            unexpected.append({"t": time.time(), "what": "hostile " + what, "detail": detail})

    def tcp():
        return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(HOSTILE_ADDR, 0))

    def closed_within(sock, limit, trickle=b""):
        """Wait for the server to close; -> (seconds, bytes received) or (None, ...) if it did not."""
        started = time.monotonic()
        got = b""
        sock.settimeout(1.0)
        while time.monotonic() - started < limit:
            if trickle:
                try:
                    sock.sendall(trickle[:1])
                    trickle = trickle[1:]
                except OSError:
                    return time.monotonic() - started, got
            try:
                d = sock.recv(4096)
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                return time.monotonic() - started, got
            if not d:
                return time.monotonic() - started, got
            got += d
        return None, got

    def slowloris(trickle):
        # The head must arrive within limits.head_timeout (10 s) of the handshake.
        try:
            s = ctx.wrap_socket(tcp(), server_hostname="127.0.0.1")
            s.sendall(b"GET /api/v1/audio HTTP/1.1\r\nHost: 127.0.0.1\r\nNureva-Cl")
            secs, got = closed_within(s, 20, b"ient-Id: x\r\nNureva-Client-Version: 1\r\n" * 4 if trickle else b"")
            s.close()
        except (OSError, ssl.SSLError) as e:
            return bad("slowloris", f"connect: {e!r}")
        name = "slowloris (trickling)" if trickle else "slowloris (stalled)"
        if secs is None:
            bad(name, "still open after 20 s")
        else:
            ok(f"{name}: closed after {round(secs)} s" + (" with 408" if b" 408 " in got[:20] else ""))

    def silent():
        # A TCP connection that never sends a byte: closed after first_byte_timeout (2 s).
        try:
            s = tcp()
            secs, _ = closed_within(s, 10)
            s.close()
        except OSError as e:
            return bad("silent TCP", f"connect: {e!r}")
        if secs is None or secs > 5:
            bad("silent TCP", f"not closed within 5 s ({secs})")
        else:
            ok(f"silent TCP: closed after {round(secs)} s")

    def garbage():
        try:
            s = tcp()
            s.sendall(b"\x00" + os.urandom(2047))
            secs, _ = closed_within(s, 20)
            s.close()
        except OSError as e:
            secs = 0.0 if isinstance(e, (ConnectionResetError, BrokenPipeError)) else None
            if secs is None:
                return bad("garbage bytes", f"{e!r}")
        if secs is None or secs > 12:
            bad("garbage bytes", f"not closed within 12 s ({secs})")
        else:
            ok("garbage bytes: closed")

    def plain_http():
        try:
            s = tcp()
            s.sendall(b"GET /api/v1/audio HTTP/1.1\r\nHost: 127.0.0.1\r\nNureva-Client-Id: x\r\n\r\n")
            _, got = closed_within(s, 5)
            s.close()
        except OSError as e:
            return bad("plain HTTP", repr(e))
        if got.startswith(b"HTTP/1.1 400") and b"https_required" in got:
            ok("plain HTTP on the HTTPS port: 400 https_required")
        else:
            bad("plain HTTP", short(got))

    def oversized():
        big = json.dumps({"account": "admin", "password": "x" * 70000}).encode()
        for path, method, body, auth, want in [
            ("/api/v1/auth/login", "POST", big, None, {413}),
            ("/api/v1/audio", "PATCH", b'{"a":"' + b"y" * 200000 + b'"}', "rgk_" + "A" * 64, {401, 413}),
        ]:
            try:
                status, _, data, _ = one_request(port, ctx, HOSTILE_ADDR, method, path, auth, body)
            except Exception as e:  # noqa: BLE001
                bad(f"oversized {method}", repr(e))
                continue
            if status in want:
                ok(f"oversized {method} {len(body) // 1000} KB: {status}")
            else:
                bad(f"oversized {method}", f"{status} {short(data)}")

    def stream_hog():
        # 10 unauthenticated heartbeat streams from one address: max_streams_per_address (8).
        held, answers = [], Counter()
        for _ in range(10):
            try:
                s = ctx.wrap_socket(tcp(), server_hostname="127.0.0.1")
                s.sendall(b"GET /api/v1/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Nureva-Client-Id: x\r\nNureva-Client-Version: 1\r\n\r\n")
                head = s.recv(4096)
                status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else head[:30]
                answers[status] += 1
                held.append(s)
            except (OSError, ssl.SSLError, ValueError) as e:
                answers[repr(e)] += 1
        time.sleep(5)
        for s in held:
            s.close()
        if set(answers) <= {200, 503} and 0 < answers[200] <= 8:
            ok(f"heartbeat hog: {answers[200]} opened, {answers[503]} x 503")
        else:
            bad("heartbeat hog", str(dict(answers)))

    def bad_keys(seconds):
        # Random API keys as fast as 2 connections go (at most ~250/s): 401, then 429.
        def run(k):
            c = Conn(port, ctx, HOSTILE_ADDR)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t = time.monotonic()
                try:
                    status, h, data, _ = c.request("GET", "/api/v1/audio", "rgk_" + os.urandom(48).hex()[:64])
                except Exception as e:  # noqa: BLE001
                    bad("bad keys", repr(e))
                    time.sleep(0.2)
                    continue
                if status == 401 and h.get("WWW-Authenticate"):
                    ok("bad API keys: 401")
                elif status == 429 and h.get("Retry-After") and b"rate_limited" in data:
                    ok("bad API keys: 429 rate_limited")
                else:
                    bad("bad keys", f"{status} {short(data)}")
                time.sleep(max(0.0, 0.008 - (time.monotonic() - t)))
            c.close()

        ts = [threading.Thread(target=run, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def wrong_admin():
        c = Conn(port, ctx, HOSTILE_ADDR)
        for _ in range(12):
            try:
                status, h, data, _ = c.request(
                    "POST", "/api/v1/auth/login", None, {"account": "admin", "password": "AAA-BBB-" + os.urandom(2).hex()}
                )
            except Exception as e:  # noqa: BLE001
                bad("wrong admin password", repr(e))
                continue
            if status == 401:
                ok("wrong admin password: 401")
            elif status == 429 and h.get("Retry-After"):
                ok("wrong admin password: 429")
            else:
                bad("wrong admin password", f"{status} {short(data)}")
            time.sleep(0.2)
        c.close()

    jobs = [
        (slowloris, (False,)),
        (slowloris, (True,)),
        (silent, ()),
        (silent, ()),
        (garbage, ()),
        (plain_http, ()),
        (oversized, ()),
        (stream_hog, ()),
        (bad_keys, (a.seconds,)),
        (wrong_admin, ()),
    ]
    threads = [threading.Thread(target=f, args=args) for f, args in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"expected": expected, "unexpected": unexpected}))


# --------------------------------------------------------------------------------
# The driver.


def console(a, *args, stdin=None):
    r = subprocess.run(
        [a.bin, *args, "--config", a.config], input=stdin, capture_output=True, text=True, timeout=60
    )
    if r.returncode != 0:
        raise RuntimeError(f"roomgate {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    return r.stdout


def sse_feed(state, data):
    """De-chunk `data` (HTTP/1.1 chunked) and split it into SSE lines."""
    buf = state["buf"] + data
    payload = b""
    while buf:
        if not state["chunked"]:
            payload, buf = buf, b""
        elif state["left"] > 0:
            take = buf[: state["left"]]
            payload += take
            buf = buf[len(take):]
            state["left"] -= len(take)
            if state["left"] == 0:
                state["left"] = -2  # the CRLF after the chunk
        elif state["left"] == -2:
            if len(buf) < 2:
                break
            buf, state["left"] = buf[2:], 0
        else:
            i = buf.find(b"\r\n")
            if i < 0:
                break
            size = int(buf[:i].split(b";")[0], 16)
            buf = buf[i + 2:]
            if size == 0:
                state["ended"] = True
                buf = b""
                break
            state["left"] = size
    state["buf"] = buf
    lines = (state["line"] + payload).split(b"\n")
    state["line"] = lines.pop()
    return lines


class Soak:
    def __init__(self, a):
        self.a = a
        cfg = tomllib.load(open(a.config, "rb"))
        base = os.path.dirname(os.path.abspath(a.config))
        self.state_file = os.path.join(base, cfg["server"]["state_dir"], "state.json")
        self.ca = os.path.join(base, cfg["tls"]["cert_dir"], "cert.pem")
        self.ctx = tls_context(self.ca)
        self.port = a.port
        self.duration = a.minutes * 60
        self.warmup = min(0.2 * self.duration, 180.0)
        self.interval = a.interval or min(30.0, max(2.0, self.duration / 60))
        self.scale = max(0.2, min(1.0, a.minutes / 30))
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failures = []  # (t, what, detail)
        self.expected = Counter()
        self.notes = Counter()  # informational counts
        self.polls = []  # (t, ms, kind, ok, source)
        self.marks = []  # (t, "reload" | "hostile")
        self.activity = []  # (start, end, name)
        self.streams_open = 0
        self.propagation = []
        self.reload_probe_max = 0.0
        self.rng = random.Random(1)

    # -- bookkeeping
    def fail(self, what, detail=""):
        with self.lock:
            self.failures.append((time.time(), what, str(detail)[:300]))
        print(f"  [{self.rel(time.time()):7.1f} s] UNEXPECTED {what}: {str(detail)[:200]}", file=sys.stderr)

    def ok(self, what, n=1):
        with self.lock:
            self.expected[what] += n

    def note(self, what, n=1):
        with self.lock:
            self.notes[what] += n

    def rel(self, t):
        return t - self.t0

    def sleep_until(self, t):
        """Sleep until wall time t; False if the run ended meanwhile."""
        return not self.stop.wait(max(0.0, t - time.time()))

    def periodic(self, name, first, period, fn):
        """Run fn at t0+first (a fraction of the warm-up), then every period (+-30 %)."""
        def loop():
            t = self.t0 + first * self.warmup
            while self.sleep_until(t) and time.time() < self.end - 5:
                started = time.time()
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - a crash of a workload thread is a finding
                    self.fail(f"{name} (driver)", repr(e))
                with self.lock:
                    self.activity.append((started, time.time(), name))
                t = max(time.time(), t + period * self.scale * self.rng.uniform(0.7, 1.3))
        th = threading.Thread(target=loop, name=name, daemon=True)
        th.start()
        return th

    def expect_status(self, what, status, want, data=b""):
        if status in want:
            return True
        self.fail(what, f"{status} {short(data)}")
        return False

    def wait_for(self, key, want, source):
        """Request GET /api/v1/audio with key until the answer is in want (<= PROPAGATION s)."""
        started = time.monotonic()
        status = data = None
        while time.monotonic() - started < PROPAGATION:
            status, _, data, _ = one_request(self.port, self.ctx, source, "GET", "/api/v1/audio", key)
            if status in want:
                self.propagation.append(time.monotonic() - started)
                return True
            time.sleep(0.05)
        return status, data

    # -- setup at the console
    def setup(self):
        a = self.a
        self.general_password = "soak-" + os.urandom(6).hex()
        console(a, "account", "set-password", "general", stdin=self.general_password + "\n")
        console(a, "account", "enable", "monitor")

        def key(name, account):
            return json.loads(console(a, "keys", "create", name, "--account", account, "--json"))

        self.poller_keys = [key(f"room-control-{i + 1}", "general")["key"] for i in range(N_POLLERS)]
        self.events_key = key("room-display", "general")["key"]
        self.monitor_key = key("monitor", "monitor")["key"]
        self.integrator_key = key("integrator-tool", "integrator")["key"]
        self.integrator_enabled = False
        code = console(a, "enrollment", "show").strip()
        time.sleep(1.2)  # the service picks console changes up within a second
        status, _, data, _ = one_request(
            self.port, self.ctx, ADMIN_ADDR, "POST", "/api/v1/auth/login", None, {"account": "admin", "password": code}
        )
        if status != 200:
            sys.exit(f"soak: admin login failed: {status} {short(data)}")
        self.admin = json.loads(data)["authParameters"]
        self.rot_key = None  # (id, key) of the console-created key in rotation
        self.rot_n = 0
        self.max_password_length = 128
        self.identify = 10

    # -- room control systems (child process)
    def start_pollers(self):
        self.pollers = subprocess.Popen(
            [sys.executable, "-u", __file__, "pollers", "--port", str(self.port), "--ca", self.ca,
             "--end", str(self.end)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        # The keys go through stdin: a command line is visible to every local user.
        self.pollers.stdin.write(",".join(self.poller_keys) + "\n")
        self.pollers.stdin.close()

        def read():
            for line in self.pollers.stdout:
                rec = json.loads(line)
                if "reconnects" in rec:
                    self.note("poller reconnections", rec["reconnects"])
                    continue
                with self.lock:
                    self.polls.append((rec["t"], rec.get("ms"), rec["kind"], rec["ok"], rec["src"]))
                if not rec["ok"]:
                    with self.lock:
                        self.failures.append((rec["t"], f"{rec['kind']} poll from {rec['src']}",
                                              f"{rec.get('status')} {rec.get('detail', '')}"))
                    print(f"  [{self.rel(rec['t']):7.1f} s] UNEXPECTED {rec['kind']} poll from {rec['src']}: "
                          f"{rec.get('status')} {rec.get('detail', '')}", file=sys.stderr)

        self.poll_reader = threading.Thread(target=read, daemon=True)
        self.poll_reader.start()

    # -- event and data streams
    def stream(self, slot, kind, seconds):
        if kind == "events":
            path, key = "/api/v1/events", self.events_key
        else:
            path, key = "/api/v1/data?events=soundLocation,deviceMetrics", self.monitor_key
        what = f"{kind} stream"
        try:
            s = self.ctx.wrap_socket(
                socket.create_connection(("127.0.0.1", self.port), timeout=10, source_address=(STREAM_ADDR[slot], 0)),
                server_hostname="127.0.0.1",
            )
        except (OSError, ssl.SSLError) as e:
            return self.fail(what, f"connect: {e!r}")
        with self.lock:
            self.streams_open += 1
        try:
            headers = "".join(f"{k}: {v}\r\n" for k, v in CLIENT.items())
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Authorization: Nureva {key}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                d = s.recv(4096)
                if not d:
                    return self.fail(what, "closed before the answer")
                head += d
            head, rest = head.split(b"\r\n\r\n", 1)
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                return self.fail(what, f"{status} {short(rest)}")
            state = {"buf": b"", "line": b"", "left": 0, "ended": False,
                     "chunked": b"transfer-encoding: chunked" in head.lower()}
            frames, comments, lines_seen = Counter(), 0, 0
            opened = time.monotonic()
            s.settimeout(0.5)
            data = rest
            while True:
                for line in sse_feed(state, data):
                    lines_seen += 1
                    if line.startswith(b"event:"):
                        frames[line[6:].strip().decode()] += 1
                    elif line.startswith(b":"):
                        comments += 1
                if state["ended"] or self.stop.is_set() or time.monotonic() - opened >= seconds:
                    break
                try:
                    data = s.recv(65536)
                except TimeoutError:
                    data = b""
                    continue
                if not data:
                    state["ended"] = True
            read_for = time.monotonic() - opened
            self.ok(f"{kind} streams read", 1)
            self.note(f"{kind} stream frames", sum(frames.values()))
            self.note(f"{kind} stream keep-alive comments", comments)
            if state["ended"] and not self.stop.is_set():
                self.fail(what, f"ended by the server after {read_for:.1f} s")
            elif kind == "data" and frames["soundLocation"] < read_for * 1.0:
                self.fail(what, f"{frames['soundLocation']} soundLocation frames in {read_for:.1f} s")
            elif kind == "data" and read_for > 12 and frames["deviceMetrics"] == 0:
                self.fail(what, f"no deviceMetrics in {read_for:.1f} s")
            elif kind == "events" and read_for > 35 and lines_seen == 0:
                self.fail(what, f"nothing, not even a keep-alive, in {read_for:.1f} s")
        except (OSError, ssl.SSLError, ValueError) as e:
            self.fail(what, repr(e))
        finally:
            s.close()
            with self.lock:
                self.streams_open -= 1

    def stream_slot(self, slot):
        rng = random.Random(100 + slot)
        self.sleep_until(self.t0 + rng.uniform(0.02, 0.2) * self.warmup)
        while not self.stop.is_set() and time.time() < self.end - 5:
            # Slot 0 reads event streams, slot 1 data streams, slot 2 either.
            kind = ["events", "data", rng.choice(["events", "data"])][slot]
            seconds = min(rng.uniform(10, 60), self.end - time.time() - 2)
            started = time.time()
            self.stream(slot, kind, seconds)
            with self.lock:
                self.activity.append((started, time.time(), f"{kind} stream"))
            self.stop.wait(rng.uniform(1, 8))

    # -- logins
    def login_round(self):
        self.login_n = getattr(self, "login_n", 0) + 1
        if self.login_n == 1:
            # Once, in the warm-up: two logins at once, as after a power cut, so that the
            # hasher's peak (limits.hash_concurrency = 2 argon2 buffers) is reached
            # before the reference is taken.
            twin = threading.Thread(target=self.login_once)
            twin.start()
            self.login_once()
            twin.join()
        c = Conn(self.port, self.ctx, LOGIN_ADDR)
        try:
            if self.login_n % 4 == 1:
                status, _, data, _ = c.request("POST", "/api/v1/auth/login", None,
                                               {"account": "general", "password": "wrong-password"})
                if self.expect_status("wrong general password", status, {401, 429}, data):
                    self.ok(f"wrong general password: {status}")
            status, _, data, _ = c.request("POST", "/api/v1/auth/login", None,
                                           {"account": "general", "password": self.general_password})
            if not self.expect_status("general login", status, {200}, data):
                return
            token = json.loads(data)["authParameters"]
            self.ok("general logins")
            status, _, data, _ = c.request("GET", "/api/v1/auth/validate", token)
            self.expect_status("validate a new session", status, {200}, data)
            status, _, data, _ = c.request("GET", "/api/v1/audio/hardware", token)
            self.expect_status("use a new session", status, {200}, data)
            if self.login_n % 2 == 0:
                status, _, data, _ = c.request("POST", "/api/v1/auth/logout", token)
                if self.expect_status("logout", status, {200, 204}, data):
                    status, _, data, _ = c.request("GET", "/api/v1/audio", token)
                    if self.expect_status("a logged-out session", status, {401}, data):
                        self.ok("logged out, then 401")
        finally:
            c.close()

    def login_once(self):
        status, _, data, _ = one_request(self.port, self.ctx, LOGIN_ADDR, "POST", "/api/v1/auth/login", None,
                                         {"account": "general", "password": self.general_password})
        if self.expect_status("general login", status, {200}, data):
            self.ok("general logins")
            token = json.loads(data)["authParameters"]
            status, _, data, _ = one_request(self.port, self.ctx, LOGIN_ADDR, "POST", "/api/v1/auth/logout", token)
            self.expect_status("logout", status, {200, 204}, data)

    # -- API keys
    def keys_round(self):
        self.rot_n += 1
        created = json.loads(console(self.a, "keys", "create", f"rotation-{self.rot_n}", "--account", "general", "--json"))
        r = self.wait_for(created["key"], {200}, KEYS_ADDR)
        if r is not True:
            self.fail("a key created at the console", f"not accepted within {PROPAGATION} s: {r[0]} {short(r[1])}")
        else:
            self.ok("console keys created and used")
        if self.rot_key:
            old_id, old_key = self.rot_key
            console(self.a, "keys", "revoke", old_id)
            r = self.wait_for(old_key, {401}, KEYS_ADDR)
            if r is not True:
                self.fail("a key revoked at the console", f"still {r[0]} after {PROPAGATION} s")
            else:
                self.ok("console keys revoked, then 401")
        self.rot_key = (created["id"], created["key"])
        # The same through the API, as admin.
        c = Conn(self.port, self.ctx, ADMIN_ADDR)
        try:
            status, _, data, _ = c.request("POST", "/api/v1/auth/keys", self.admin,
                                           {"name": f"api-rotation-{self.rot_n}", "account": "general"})
            if not self.expect_status("create a key (API)", status, {201}, data):
                return
            k = json.loads(data)
            status, _, data, _ = one_request(self.port, self.ctx, KEYS_ADDR, "GET", "/api/v1/audio", k["key"])
            self.expect_status("use a key created by the API", status, {200}, data)
            status, _, data, _ = c.request("DELETE", f"/api/v1/auth/keys/{k['id']}", self.admin)
            if self.expect_status("revoke a key (API)", status, {200, 204}, data):
                status, _, data, _ = one_request(self.port, self.ctx, KEYS_ADDR, "GET", "/api/v1/audio", k["key"])
                if self.expect_status("a key revoked by the API", status, {401}, data):
                    self.ok("API keys created, used, revoked, then 401")
        finally:
            c.close()

    # -- console changes, policy change, SIGHUP
    def change_round(self):
        # The integrator account, at the console; its key follows.
        self.integrator_enabled = not self.integrator_enabled
        console(self.a, "account", "enable" if self.integrator_enabled else "disable", "integrator")
        want = {200} if self.integrator_enabled else {401}
        r = self.wait_for(self.integrator_key, want, CHANGE_ADDR)
        if r is not True:
            self.fail("integrator enable/disable at the console", f"key answered {r[0]} after {PROPAGATION} s")
        else:
            self.ok("integrator enabled/disabled, key followed")
        # A policy change through the API.
        self.max_password_length = 255 - self.max_password_length  # 128 <-> 127
        status, _, data, _ = one_request(self.port, self.ctx, ADMIN_ADDR, "PATCH", "/api/v1/security/policy",
                                         self.admin, {"passwordMaxLength": self.max_password_length})
        if self.expect_status("policy change", status, {200}, data):
            if json.loads(data).get("passwordMaxLength") == self.max_password_length:
                self.ok("policy changes")
            else:
                self.fail("policy change", short(data))
        # Edit the config, then SIGHUP, with requests going on around it.
        self.identify = 21 - self.identify  # 10 s <-> 11 s
        text = open(self.a.config).read()
        new = re.sub(r'identify_time = "\d+s"', f'identify_time = "{self.identify}s"', text)
        if new == text:
            raise RuntimeError("no identify_time line to change in the config")
        with open(self.a.config + ".tmp", "w") as f:
            f.write(new)
        os.replace(self.a.config + ".tmp", self.a.config)
        before = self.count_reloads()
        probe_stop = threading.Event()
        probe = threading.Thread(target=self.reload_probe, args=(probe_stop,))
        probe.start()
        time.sleep(1.0)
        os.kill(self.a.pid, signal.SIGHUP)
        with self.lock:
            self.marks.append((time.time(), "reload"))
        deadline = time.monotonic() + PROPAGATION
        while self.count_reloads() == before and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.count_reloads() == before:
            self.fail("SIGHUP reload", f"no 'configuration reloaded' in the log within {PROPAGATION} s")
        else:
            self.ok("SIGHUP reloads (with a config change)")
        time.sleep(2.0)
        probe_stop.set()
        probe.join()

    def reload_probe(self, stop):
        kept = Conn(self.port, self.ctx, CHANGE_ADDR)
        key = self.poller_keys[0]
        while not stop.is_set():
            for conn in (kept, None):
                try:
                    if conn is None:
                        status, _, data, ms = one_request(self.port, self.ctx, CHANGE_ADDR, "GET", "/api/v1/audio", key)
                    else:
                        status, _, data, ms = conn.request("GET", "/api/v1/audio", key)
                except Exception as e:  # noqa: BLE001
                    self.fail("a request around a reload", repr(e))
                    continue
                if self.expect_status("a request around a reload", status, {200}, data):
                    self.ok("requests around reloads")
                    self.reload_probe_max = max(self.reload_probe_max, ms)
            time.sleep(0.1)
        if kept.reconnects > 0:
            self.fail("a kept-alive connection across a reload", f"{kept.reconnects} reconnection(s)")
        kept.close()

    def count_reloads(self):
        try:
            with open(self.a.log, errors="replace") as f:
                return sum("configuration reloaded" in line for line in f)
        except OSError:
            return 0

    # -- hostile clients (child process, nice 10)
    def hostile_round(self):
        with self.lock:
            self.marks.append((time.time(), "hostile"))
        proc = subprocess.Popen(
            [sys.executable, __file__, "hostile", "--port", str(self.port), "--ca", self.ca, "--seconds", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, 10)
        except OSError:
            pass
        stdout, stderr = proc.communicate(timeout=120)
        if proc.returncode != 0:
            return self.fail("hostile episode (driver)", stderr.strip()[-300:])
        out = json.loads(stdout)
        self.ok("hostile episodes")
        for what, n in out["expected"].items():
            self.ok("hostile: " + what, n)
        for u in out["unexpected"]:
            with self.lock:
                self.failures.append((u["t"], u["what"], u["detail"]))
            print(f"  [{self.rel(u['t']):7.1f} s] UNEXPECTED {u['what']}: {u['detail']}", file=sys.stderr)

    # -- sampling
    def tcp_states(self):
        """{inode: state} of the sockets bound to the server's port, from /proc/net/tcp."""
        states = {}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                rows = open(table).read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                p = row.split()
                if int(p[1].rsplit(":", 1)[1], 16) == self.port and p[9] != "0":
                    states[p[9]] = p[3]
        return states

    def measure(self):
        pid = self.a.pid
        fd_dir = f"/proc/{pid}/fd"
        # /proc/net/tcp is read in page-sized pieces and is no snapshot: a row can be
        # missed or repeated while connections come and go. So it is read before and
        # after the descriptors are listed, and a socket counts as an open client
        # connection if either reading saw it ESTABLISHED (the "01" state).
        before = self.tcp_states()
        inodes = set()
        names = os.listdir(fd_dir)
        for n in names:
            try:
                link = os.readlink(f"{fd_dir}/{n}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        after = self.tcp_states()
        established = sum(before.get(i) == "01" or after.get(i) == "01" for i in inodes)
        close_wait = sum(after.get(i) == "08" for i in inodes)
        rss = 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        return {
            "rss_kib": rss,
            "fds": len(names),
            "client_connections": established,
            "fds_excl_connections": len(names) - established,
            "close_wait": close_wait,
            "state_bytes": os.stat(self.state_file).st_size,
        }

    def sample(self, now, prev):
        m = self.measure()
        with self.lock:
            polls = [p for p in self.polls if prev < p[0] <= now]
            fails = sum(prev < f[0] <= now for f in self.failures)
            streams = self.streams_open
        lat = [p[1] for p in polls if p[2] in ("audio", "status") and p[1] is not None]
        writes = [p[1] for p in polls if p[2] in ("volume", "patch") and p[1] is not None]
        m.update(
            t_s=round(self.rel(now), 1),
            polls=len(lat),
            poll_p50_ms=round(statistics.median(lat), 2) if lat else "",
            poll_p99_ms=round(p_rank(lat, 99), 2) if lat else "",
            poll_max_ms=round(max(lat), 2) if lat else "",
            writes=len(writes),
            driver_streams_open=streams,
            unexpected=fails,
        )
        return m

    def sampler(self):
        self.samples = []
        prev = self.t0 - 1
        k = 0
        while True:
            t = self.t0 + k * self.interval
            if t > self.end + 0.01:
                break
            if not self.sleep_until(t) and time.time() < t - 0.05:
                break
            if not os.path.exists(f"/proc/{self.a.pid}"):
                self.fail("roomgate", "the process is gone")
                self.stop.set()
                break
            now = time.time()
            s = self.sample(now, prev)
            self.samples.append(s)
            if k % max(1, round(self.duration / self.interval / 10)) == 0:
                with self.lock:
                    failures = len(self.failures)
                print(f"  [{s['t_s'] / 60:5.1f} min] RSS {s['rss_kib'] / 1024:.1f} MiB, descriptors "
                      f"{s['fds_excl_connections']} + {s['client_connections']} client connections, state file "
                      f"{s['state_bytes']:,} B, poll p99 {s['poll_p99_ms'] or '-'} ms, unexpected failures {failures}",
                      file=sys.stderr)
            prev = now
            k += 1

    # -- run
    def run(self):
        a = self.a
        print(f"soak: {a.minutes:g} min, sample every {self.interval:g} s, warm-up {self.warmup:g} s, "
              f"activity intervals x{self.scale:g}; roomgate pid {a.pid} port {self.port}", file=sys.stderr)
        self.setup()
        self.t0 = time.time()
        self.end = self.t0 + self.duration
        self.start_pollers()
        sampler = threading.Thread(target=self.sampler, daemon=True)
        sampler.start()
        workers = [threading.Thread(target=self.stream_slot, args=(i,), daemon=True) for i in range(3)]
        for w in workers:
            w.start()
        workers += [
            self.periodic("hostile", 0.05, 300, self.hostile_round),
            self.periodic("login", 0.1, 30, self.login_round),
            self.periodic("keys", 0.25, 120, self.keys_round),
            self.periodic("change", 0.45, 240, self.change_round),
        ]
        try:
            sampler.join()
        except KeyboardInterrupt:
            self.stop.set()
            self.pollers.terminate()
            raise
        self.stop.set()
        for w in workers:
            w.join(timeout=60)
        self.pollers.wait(timeout=30)
        self.poll_reader.join(timeout=10)
        return self.report()

    # -- results
    def report(self):
        a, S = self.a, self.samples
        os.makedirs(a.out, exist_ok=True)
        cols = ["t_s", "rss_kib", "fds", "client_connections", "fds_excl_connections", "close_wait", "state_bytes",
                "polls", "poll_p50_ms", "poll_p99_ms", "poll_max_ms", "writes", "driver_streams_open", "unexpected"]
        with open(os.path.join(a.out, "soak.csv"), "w") as f:
            f.write(",".join(cols) + ",warmup\n")
            for s in S:
                f.write(",".join(str(s[c]) for c in cols) + f",{int(s['t_s'] <= self.warmup)}\n")
        with open(os.path.join(a.out, "polls.csv"), "w") as f:
            f.write("t_s,source,kind,ms,ok\n")
            for t, ms, kind, good, src in sorted(self.polls):
                f.write(f"{self.rel(t):.3f},{src},{kind},{'' if ms is None else round(ms, 3)},{int(good)}\n")
        with open(os.path.join(a.out, "activity.csv"), "w") as f:
            f.write("start_s,end_s,activity\n")
            for t, t1, what in sorted(self.activity):
                f.write(f"{self.rel(t):.3f},{self.rel(t1):.3f},{what}\n")
        with open(os.path.join(a.out, "failures.txt"), "w") as f:
            for t, what, detail in sorted(self.failures):
                f.write(f"{self.rel(t):8.1f} s  {what}: {detail}\n")

        w_idx = max(i for i, s in enumerate(S) if s["t_s"] <= self.warmup)
        after = S[w_idx + 1:]

        def growth(col):
            ref = statistics.median(s[col] for s in S[max(0, w_idx - 2): w_idx + 1])
            end = statistics.median(s[col] for s in S[-3:])
            return ref, end, end - ref

        rows = []
        r0, r1, dr = growth("rss_kib")
        rows.append(("RSS growth after warm-up", f"{dr:+,.0f} KiB ({r0 / 1024:.1f} → {r1 / 1024:.1f} MiB)",
                     f"≤ {RSS_GROWTH_KIB} KiB", dr <= RSS_GROWTH_KIB))
        f0, f1, df = growth("fds_excl_connections")
        rows.append(("open descriptors growth (excl. client connections)", f"{df:+.0f} ({f0:.0f} → {f1:.0f})",
                     f"≤ {FD_GROWTH}", df <= FD_GROWTH))
        s0, s1, ds = growth("state_bytes")
        rows.append(("state file growth", f"{ds:+,.0f} B ({s0:,.0f} → {s1:,.0f} B)",
                     f"≤ {STATE_GROWTH_BYTES // 1024} KiB", ds <= STATE_GROWTH_BYTES))
        p99s = [(s["poll_p99_ms"], s["t_s"]) for s in after if s["poll_p99_ms"] != ""]
        empty = [s["t_s"] for s in after if s["poll_p99_ms"] == ""]
        worst, worst_t = max(p99s) if p99s else (float("nan"), 0)
        rows.append((f"poll p99, worst {self.interval:g}-s interval after warm-up",
                     f"{worst:.2f} ms (at {worst_t / 60:.1f} min)" + (f"; {len(empty)} empty" if empty else ""),
                     f"< {P99_TARGET_MS:g} ms", bool(p99s) and worst < P99_TARGET_MS and not empty))
        rows.append(("unexpected failures", f"{len(self.failures)}", "0", not self.failures))
        passed = all(r[3] for r in rows)

        with self.lock:
            lat = [p[1] for p in self.polls if p[2] in ("audio", "status") and p[1] is not None]
            wlat = [p[1] for p in self.polls if p[2] in ("volume", "patch") and p[1] is not None]
        log_errors = []
        try:
            with open(a.log, errors="replace") as f:
                log_errors = [ln.rstrip() for ln in f if " ERROR " in ln or "panicked" in ln]
        except OSError:
            pass

        print(f"\nroomgate soak: {a.minutes:g} min, {os.cpu_count()} cores, "
              f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime(self.t0))}, samples every {self.interval:g} s, "
              f"warm-up {self.warmup:g} s\n")
        print("| figure | measured | target | result |")
        print("|---|---:|---|---|")
        for name, measured, target, good in rows:
            print(f"| {name} | {measured} | {target} | {'PASS' if good else 'FAIL'} |")
        print()
        print("| workload | count |")
        print("|---|---:|")
        if lat:
            print(f"| polls (GET audio/status), p50 / p99 / max ms | {len(lat)}, "
                  f"{statistics.median(lat):.2f} / {p_rank(lat, 99):.2f} / {max(lat):.2f} |")
        if wlat:
            print(f"| setting changes (PUT volume, PATCH audio), p99 ms | {len(wlat)}, {p_rank(wlat, 99):.2f} |")
        for what, n in sorted(self.expected.items()):
            print(f"| {what} | {n} |")
        for what, n in sorted(self.notes.items()):
            print(f"| {what} | {n} |")
        if self.propagation:
            print(f"| console change reached the service, max s | {max(self.propagation):.2f} |")
        print(f"| requests around reloads, max ms | {self.reload_probe_max:.2f} |")
        print(f"| service log ERROR/panic lines | {len(log_errors)} |")
        print()
        for line in log_errors[:10]:
            print("log:", line)
        if self.failures:
            print(f"unexpected failures ({len(self.failures)}; all in {a.out}/failures.txt):")
            for t, what, detail in sorted(self.failures)[:20]:
                print(f"  {self.rel(t):8.1f} s  {what}: {detail}")
        files = ["soak.csv"] + (["soak.png"] if self.plot(passed) else []) + ["polls.csv", "activity.csv",
                                                                              "failures.txt"]
        print(f"files in {a.out}: {', '.join(files)}")
        print("soak:", "PASS" if passed else "FAIL")
        return 0 if passed else 1

    def plot(self, passed):
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("soak: matplotlib is missing, so there is no plot: pip install matplotlib", file=sys.stderr)
            return False
        S = self.samples
        x = [s["t_s"] / 60 for s in S]
        fig, (ax1, ax2, ax3) = plt.subplots(3, 1, sharex=True, figsize=(9, 8.5), constrained_layout=True)
        ax1.plot(x, [s["rss_kib"] / 1024 for s in S], color="tab:blue", marker=".", ms=3)
        ax1.set_ylabel("RSS (MiB)")
        lo = min(s["rss_kib"] for s in S) / 1024
        hi = max(s["rss_kib"] for s in S) / 1024
        ax2.step(x, [s["fds"] for s in S], where="post", color="0.6", lw=1, label="all")
        ax2.step(x, [s["fds_excl_connections"] for s in S], where="post", color="tab:purple", lw=2,
                 label="excluding open client connections")
        ax2.set_ylabel("open descriptors")
        ax2.set_ylim(0, max(s["fds"] for s in S) * 1.25 + 2)
        p = [(s["t_s"] / 60, s["poll_p99_ms"], s["poll_p50_ms"]) for s in S if s["poll_p99_ms"] != ""]
        ax3.plot([q[0] for q in p], [q[1] for q in p], color="tab:orange", marker=".", ms=3, label="p99")
        ax3.plot([q[0] for q in p], [q[2] for q in p], color="tab:green", lw=1, label="p50")
        ax3.axhline(P99_TARGET_MS, color="tab:red", ls="--", lw=1, label=f"target {P99_TARGET_MS:g} ms")
        for t, kind in self.marks:
            ax3.axvline(self.rel(t) / 60, color="tab:red" if kind == "hostile" else "tab:cyan",
                        lw=0.8, ls=":", alpha=0.8)
        ax3.plot([], [], color="tab:cyan", ls=":", label="SIGHUP")
        ax3.plot([], [], color="tab:red", ls=":", label="hostile episode")
        ax3.set_ylim(0, max([P99_TARGET_MS * 1.2] + [q[1] * 1.1 for q in p]))
        ax3.set_ylabel(f"poll latency per {self.interval:g}-s interval (ms)")
        ax3.legend(loc="upper left", fontsize=8, ncol=5)
        ax3.set_xlabel("minutes")
        for ax in (ax1, ax2, ax3):
            ax.axvspan(0, self.warmup / 60, color="0.85", alpha=0.6, lw=0)
            ax.grid(True, alpha=0.3)
        w_idx = max(i for i, s in enumerate(S) if s["t_s"] <= self.warmup)
        ref = S[max(0, w_idx - 2): w_idx + 1]
        rss_ref = statistics.median(s["rss_kib"] for s in ref) / 1024
        ax1.hlines(rss_ref + RSS_GROWTH_KIB / 1024, self.warmup / 60, x[-1], color="tab:red", ls="--", lw=1,
                   label=f"warm-up level + {RSS_GROWTH_KIB / 1024:g} MiB")
        top = max(hi, rss_ref + RSS_GROWTH_KIB / 1024)
        post = [s["rss_kib"] / 1024 for s in S[w_idx:]]
        if top - lo > 8 and top - min(post) < 6:
            # The warm-up climbs far (argon2 buffers, first connections): zoom on the
            # part that is judged, and say where the curve comes from.
            ax1.set_ylim(min(post) - 1.5, top + 1)
            ax1.text(0.25, 0.04, f"starts at {S[0]['rss_kib'] / 1024:.1f} MiB (off scale)", fontsize=8,
                     color="0.3", transform=ax1.transAxes)
        else:
            ax1.set_ylim(max(0, lo - 2), top + 2)
        ax1.legend(loc="lower right", fontsize=8)
        ax2.hlines(statistics.median(s["fds_excl_connections"] for s in ref) + FD_GROWTH, self.warmup / 60, x[-1],
                   color="tab:red", ls="--", lw=1, zorder=3, label=f"warm-up level + {FD_GROWTH}")
        ax2.legend(loc="upper left", fontsize=8, ncol=3)
        ax1.text(self.warmup / 120, ax1.get_ylim()[1], "warm-up", ha="center", va="top", fontsize=8, color="0.3")
        fig.suptitle(f"roomgate soak, {self.a.minutes:g} min: {'PASS' if passed else 'FAIL'}")
        fig.savefig(os.path.join(self.a.out, "soak.png"), dpi=110)
        return True


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("pollers", "hostile"):
        role = sys.argv[1]
        p = argparse.ArgumentParser(prog=f"soak.py {role}")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--ca", required=True)
        p.add_argument("--end", type=float)
        p.add_argument("--seconds", type=float, default=5)
        a = p.parse_args(sys.argv[2:])
        return pollers_main(a) if role == "pollers" else hostile_main(a)
    p = argparse.ArgumentParser(description="A compressed day in a room (see bench/soak.sh).")
    p.add_argument("--bin", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--interval", type=float, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    sys.exit(Soak(a).run())


if __name__ == "__main__":
    main()
