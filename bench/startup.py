"""Start to ready: from exec to the first HTTPS answer, with existing state and certificate.

    python3 startup.py ROOMGATE CONFIG CA_PEM [RUNS]

Each run starts `ROOMGATE serve --config CONFIG` on a fixed free loopback port, then
tries, every millisecond, a TLS connection and `GET /api/v1` (the capabilities
document, no credential needed) until one is answered 200; the time from the spawn
to that answer is "ready". The server is stopped with SIGTERM between runs. Prints
one line: "startup ms: median M max X runs N".
"""
import socket
import ssl
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(port, ctx):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(
                    b"GET /api/v1 HTTP/1.1\r\nHost: localhost\r\nNureva-Client-Id: bench\r\n"
                    b"Nureva-Client-Version: 1\r\nConnection: close\r\n\r\n"
                )
                return tls.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_run(binary, config, ctx):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not answered(port, ctx):
            if proc.poll() is not None:
                sys.exit(f"startup: the server exited with {proc.returncode}")
            if time.perf_counter() - started > 10:
                sys.exit("startup: no answer within 10 s")
            time.sleep(0.001)
        return (time.perf_counter() - started) * 1000
    finally:
        proc.terminate()
        proc.wait()


def main():
    binary, config, ca = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    ctx = ssl.create_default_context(cafile=ca)
    times = [one_run(binary, config, ctx) for _ in range(runs)]
    print(f"startup ms: median {statistics.median(times):.1f} max {max(times):.1f} runs {runs}")


if __name__ == "__main__":
    main()
