"""Open N keep-alive TLS connections, make one request on each, then hold them idle.

    python3 hold_connections.py HOST PORT CA_PEM N PATH [HEADER ...]

Prints "held N" once every connection has had its answer, then keeps them open
until stdin is closed (the benchmark measures the server's RSS meanwhile).
"""
import asyncio
import ssl
import sys


async def one(host, port, ctx, request):
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost")
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return reader, writer


async def main():
    host, port, ca, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    headers = "".join(f"{h}\r\n" for h in sys.argv[6:])
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode()
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    held = []
    for start in range(0, n, 100):
        held += await asyncio.gather(*(one(host, port, ctx, request) for _ in range(start, min(n, start + 100))))
    print(f"held {len(held)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
