#!/usr/bin/env python3
"""Sends exactly N keep-alive `GET /` requests (`--target` for another path) over C
connections (one request in flight per connection, as wrk does) and checks that each gets a 200 with a Content-Length body.

    python3 scripts/http_fixed_client.py --port 8080 --requests 5000 --conns 10

Prints `requests=N seconds=S`. A fixed count, unlike wrk's fixed duration, lets a profiler's
totals be compared run to run (scripts/callgrind_http.sh). Loopback only.
"""
import argparse
import selectors
import socket
import sys
import time

REQUEST_FORMAT = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.sent = 0

    def complete_response(self):
        """Removes one whole response from the buffer; False if it is not all there."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = self.buffer[:end].decode("latin-1")
        lines = head.split("\r\n")
        if not lines[0].startswith("HTTP/1.1 200"):
            sys.exit(f"unexpected status line: {lines[0]!r}")
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            sys.exit("response without Content-Length")
        if len(self.buffer) < end + 4 + length:
            return False
        self.buffer = self.buffer[end + 4 + length:]
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--conns", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--target", default="/")
    args = parser.parse_args()

    selector = selectors.DefaultSelector()
    request = REQUEST_FORMAT.format(args.target).encode()
    connections = [Connection(args.port) for _ in range(args.conns)]
    to_send = args.requests
    done = 0
    for connection in connections:
        if to_send == 0:
            break
        connection.sock.sendall(request)
        connection.sent += 1
        to_send -= 1
        selector.register(connection.sock, selectors.EVENT_READ, connection)
    start = time.monotonic()
    deadline = start + args.timeout
    while done < args.requests:
        if time.monotonic() > deadline:
            sys.exit(f"timed out after {done} of {args.requests} responses")
        for key, _ in selector.select(timeout=1):
            connection = key.data
            data = connection.sock.recv(65536)
            if not data:
                sys.exit(f"server closed a connection after {done} responses")
            connection.buffer += data
            while connection.complete_response():
                done += 1
                if to_send > 0:
                    connection.sock.sendall(request)
                    to_send -= 1
    elapsed = time.monotonic() - start
    for connection in connections:
        connection.sock.close()
    print(f"requests={done} seconds={elapsed:.2f}")


if __name__ == "__main__":
    main()
