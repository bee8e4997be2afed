#!/usr/bin/env python3
"""Memory per idle keep-alive HTTP connection: HTTPExample's resident set before and after
N clients have each made one request and kept their connection open (default 19,000).

Usage: python3 scripts/http_idle_memory.py [BUILD_DIR] [--conns N]   (default Examples/.build/release)
Prints the KB per connection; exits non-zero if any request failed. Loopback only.
"""

import os
import resource
import socket
import subprocess
import sys
import time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
BUILD = args[0] if args else "Examples/.build/release"
CONNS = int(sys.argv[sys.argv.index("--conns") + 1]) if "--conns" in sys.argv else 19000
# --no-request: connections that send nothing (the floor: what a connection costs before HTTP).
SEND = "--no-request" not in sys.argv


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, CONNS + 1000), hard))
    server = subprocess.Popen(
        [os.path.join(BUILD, "HTTPExample"), "--port", "0", "--idle-timeout", "600", "--header-timeout", "600"],
        stdout=subprocess.PIPE,
    )
    try:
        line = server.stdout.readline()
        port = int(line.split(b":")[1].split()[0])
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        # Warm up: the first connections grow the loop's buffers and the runtime's pools.
        warm = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
        for sock in warm:
            sock.sendall(request)
            sock.recv(4096)
        time.sleep(0.5)
        before = rss_kb(server.pid)
        socks = []
        for index in range(CONNS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            socks.append(sock)
            if not SEND:
                continue
            sock.sendall(request)
            if len(socks) % 500 == 0:
                for pending in socks[-500:]:
                    if not pending.recv(4096).endswith(b"hello\n"):
                        sys.exit("a request failed")
        for pending in socks[len(socks) - len(socks) % 500:] if SEND else []:
            if not pending.recv(4096).endswith(b"hello\n"):
                sys.exit("a request failed")
        time.sleep(1.0)
        after = rss_kb(server.pid)
        kind = "idle keep-alive" if SEND else "silent (no request yet)"
        print(f"{CONNS} {kind} connections: RSS {before} KB -> {after} KB, "
              f"{(after - before) / CONNS:.2f} KB per connection")
        for sock in socks + warm:
            sock.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
