#!/usr/bin/env python3
"""Drives the release HTTPExample with peers we did not write: curl, Python's http.client and
h11 (which validates every byte of every response), and raw sockets for pipelining, slowloris,
malformed requests, 1,000 concurrent connections and graceful shutdown. Then the release
FetchExample against HTTPExample and against Python's http.server wrapped in TLS, with a
certificate made here: verified with --ca-file, refused without it (one-line reason), --insecure.

Usage: python3 scripts/http_integration.py [BUILD_DIR]   (default Examples/.build/release)

The server runs on 127.0.0.1 port 0 with short timeouts; every wait has a deadline and the
script synchronises on output and socket events, never on sleeps. Exits non-zero on the first
failure; prints 'N passed, 0 failed' at the end.
"""

import http.client
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import h11
import http.server
import ssl

BUILD = sys.argv[1] if len(sys.argv) > 1 else "Examples/.build/release"
TIMEOUT = 20.0
passed = 0


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Server:
    """HTTPExample on a free port, with the flags given."""

    def __init__(self, *flags):
        self.process = subprocess.Popen(
            [os.path.join(BUILD, "HTTPExample"), "--port", "0", *flags], stdout=subprocess.PIPE
        )
        line = self.read_line()
        check(b"listening on" in line, f"unexpected first line {line!r}")
        self.port = int(line.split(b":")[1].split()[0])

    def read_line(self, timeout=TIMEOUT):
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            if not selector.select(max(0, deadline - time.monotonic())):
                fail("the server printed nothing in time")
            byte = os.read(self.process.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
        return line

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("the server did not exit after a signal")
        return code

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def test(function):
    """Runs one test function and counts it."""
    global passed
    started = time.monotonic()
    function()
    passed += 1
    print(f"ok {function.__name__} ({time.monotonic() - started:.2f} s)")


def read_until_close(sock, limit=10_000_000):
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def h11_responses(sock, requests, bodies=None, expect_close=False):
    """Sends `requests` (h11.Request objects, each with an optional body) one after another on
    `sock` and reads each response through an h11 client, which rejects any invalid byte.
    Returns [(response, body bytes)]."""
    conn = h11.Connection(h11.CLIENT)
    results = []
    bodies = bodies or [b""] * len(requests)
    for request, body in zip(requests, bodies):
        data = conn.send(request)
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
        sock.sendall(data)
        response = None
        collected = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = sock.recv(65536)
                conn.receive_data(chunk)
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.InformationalResponse):
                continue
            elif isinstance(event, h11.Data):
                collected += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                fail("connection closed before the response ended")
        results.append((response, collected))
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            break
        conn.start_next_cycle()
    return results


def headers_of(response):
    return {name.decode().lower(): value.decode() for name, value in response.headers}


# --- curl ---------------------------------------------------------------------------------


def curl(*args, input_bytes=None):
    result = subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, input=input_bytes, timeout=TIMEOUT)
    check(result.returncode == 0, f"curl {args} failed: {result.stderr.decode()}")
    return result.stdout


def curl_keep_alive():
    base = f"http://127.0.0.1:{server.port}"
    out = curl("-w", "[%{num_connects}]", f"{base}/", f"{base}/lines?count=2", f"{base}/nope")
    check(out == b"hello\n[1]line 0\nline 1\n[0]not found\n[0]", f"curl keep-alive across URLs: {out!r}")


def curl_http10():
    out = curl("--http1.0", "-i", f"http://127.0.0.1:{server.port}/lines?count=3")
    head, _, body = out.partition(b"\r\n\r\n")
    check(body == b"line 0\nline 1\nline 2\n", f"HTTP/1.0 body {body!r}")
    check(b"Transfer-Encoding" not in head and b"Connection: close" in head, f"HTTP/1.0 head {head!r}")
    out = curl("--http1.0", "-H", "Connection: keep-alive", "-w", "[%{num_connects}]",
               f"http://127.0.0.1:{server.port}/", f"http://127.0.0.1:{server.port}/")
    check(out == b"hello\n[1]hello\n[0]", f"HTTP/1.0 keep-alive when asked: {out!r}")


def curl_chunked_upload():
    payload = os.urandom(300_000)
    out = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@-", f"http://127.0.0.1:{server.port}/echo", input_bytes=payload)
    check(out == payload, f"chunked upload echoed {len(out)} bytes of {len(payload)}")
    out = curl("--data-binary", "@-", f"http://127.0.0.1:{server.port}/echo", input_bytes=payload)
    check(out == payload, "Content-Length upload echoed")


def curl_expect_continue():
    payload = b"x" * 2_000_000
    out = curl("-H", "Expect: 100-continue", "--data-binary", "@-", f"http://127.0.0.1:{server.port}/echo", input_bytes=payload)
    check(out == payload, "100-continue upload echoed")


# --- http.client ----------------------------------------------------------------------------


def http_client():
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    for _ in range(3):
        conn.request("GET", "/")
        response = conn.getresponse()
        check(response.status == 200 and response.read() == b"hello\n", "http.client GET /")
        check(response.getheader("Content-Type") == "text/plain; charset=utf-8", "Content-Type")
        check(response.getheader("Date", "").endswith(" GMT"), "Date")
    conn.request("POST", "/echo", body=b"ping" * 1000)
    response = conn.getresponse()
    check(response.read() == b"ping" * 1000, "http.client POST /echo")
    conn.request("HEAD", "/")
    response = conn.getresponse()
    check(response.status == 200 and response.getheader("Content-Length") == "6" and response.read() == b"", "HEAD /")
    conn.request("GET", "/sleep?ms=20")
    check(conn.getresponse().read() == b"slept\n", "GET /sleep")
    conn.request("DELETE", "/")
    response = conn.getresponse()
    check(response.status == 405 and "GET" in response.getheader("Allow"), "405 with Allow")
    response.read()
    conn.close()


# --- h11: every byte of every response ---------------------------------------------------


def h11_every_response():
    sock = server.connect()
    host = [("Host", "127.0.0.1")]
    requests = [
        h11.Request(method="GET", target="/", headers=host),
        h11.Request(method="GET", target="/lines?count=100", headers=host),
        h11.Request(method="POST", target="/echo", headers=host + [("Transfer-Encoding", "chunked")]),
        h11.Request(method="POST", target="/echo", headers=host + [("Content-Length", "5")]),
        h11.Request(method="HEAD", target="/lines?count=3", headers=host),
        h11.Request(method="GET", target="/missing", headers=host),
        h11.Request(method="GET", target="/sleep?ms=5", headers=host),
        h11.Request(method="GET", target="/", headers=host + [("Connection", "close")]),
    ]
    bodies = [b"", b"", b"chunked body", b"hello", b"", b"", b"", b""]
    results = h11_responses(sock, requests, bodies)
    check(len(results) == len(requests), f"{len(results)} responses of {len(requests)}")
    statuses = [response.status_code for response, _ in results]
    check(statuses == [200, 200, 200, 200, 200, 404, 200, 200], f"statuses {statuses}")
    check(results[1][1] == b"".join(b"line %d\n" % i for i in range(100)), "lines body")
    check(results[2][1] == b"chunked body" and results[3][1] == b"hello", "echo bodies")
    check(results[4][1] == b"", "HEAD has no body")
    check(headers_of(results[7][0]).get("connection") == "close", "Connection: close answered")
    check(read_until_close(sock) == b"", "closed after Connection: close")
    sock.close()
    # HTTP/1.0: no chunked coding, close-delimited stream.
    sock = server.connect()
    sock.sendall(b"GET /lines?count=2 HTTP/1.0\r\n\r\n")
    conn = h11.Connection(h11.CLIENT)
    # h11 sends only HTTP/1.1: its request stands in for the raw HTTP/1.0 one sent above.
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x"), ("Connection", "close")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(read_until_close(sock))
    conn.receive_data(b"")
    events = []
    while True:
        event = conn.next_event()
        events.append(event)
        if event is h11.NEED_DATA or isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    body = b"".join(e.data for e in events if isinstance(e, h11.Data))
    check(body == b"line 0\nline 1\n", f"HTTP/1.0 body {body!r}")
    sock.close()


# --- raw sockets ----------------------------------------------------------------------------


def pipelining():
    sock = server.connect()
    requests = b"".join(b"GET /lines?count=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(16))
    requests += b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock.sendall(requests)
    data = read_until_close(sock)
    conn = h11.Connection(h11.CLIENT)
    conn.receive_data(data)
    conn.receive_data(b"")
    bodies = []
    for _ in range(18):
        conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        body = b""
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                fail(f"pipelined responses ended after {len(bodies)}")
        bodies.append(body)
        if conn.our_state is h11.MUST_CLOSE:
            break
        conn.start_next_cycle()
    expected = [b"".join(b"line %d\n" % j for j in range(i)) for i in range(16)] + [b"abc", b"hello\n"]
    check(bodies == expected, "pipelined responses in order")
    sock.close()


def status_of(data, request=b""):
    check(data.startswith(b"HTTP/1.1 "), f"no status line in {data[:80]!r} for {request[:60]!r}")
    return int(data[9:12])


MALFORMED = [
    (b"GARBAGE\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40), 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n  folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n", 400),
    (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBig: " + b"a" * 40000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"F%d: v\r\n" % i for i in range(120)) + b"\r\n", 431),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n", 413),
]


def malformed_requests():
    for request, status in MALFORMED:
        sock = server.connect()
        sock.sendall(request)
        data = read_until_close(sock)
        check(status_of(data, request) == status, f"{request[:40]!r}: got {data[:40]!r}, expected {status}")
        check(b"Connection: close" in data, f"{request[:40]!r} answered without Connection: close")
        sock.close()
    # 1 MB without a newline: answered and closed (the server stops reading at the limit).
    sock = server.connect()
    try:
        sock.sendall(b"GET /" + b"a" * 1_000_000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = read_until_close(sock)
    check(data == b"" or status_of(data) == 414, f"1 MB line: {data[:40]!r}")
    sock.close()
    check(curl(f"http://127.0.0.1:{server.port}/") == b"hello\n", "the server still serves")


def chunked_body_too_large():
    sock = server.connect()
    received = []
    reader = threading.Thread(target=lambda: received.append(read_until_close(sock, limit=20_000_000)))
    reader.start()
    chunk = b"100000\r\n" + b"a" * 0x100000 + b"\r\n"
    try:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 9)
    except (BrokenPipeError, ConnectionResetError):
        pass
    reader.join(TIMEOUT)
    check(not reader.is_alive(), "the connection was not closed")
    data = received[0]
    # The echo has already started a 200 when the limit is crossed: the connection is cut.
    check(data.startswith(b"HTTP/1.1 200") and not data.endswith(b"0\r\n\r\n"), "over-long chunked body cut off")
    check(len(data) < 8_500_000, f"echoed {len(data)} bytes, more than the limit")
    sock.close()


def slowloris_and_idle():
    sock = short.connect()
    started = time.monotonic()
    sock.sendall(b"GET / HTTP/1.1\r\n")
    for _ in range(3):
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            break
        time.sleep(0.2)
    data = read_until_close(sock)
    elapsed = time.monotonic() - started
    check(data == b"" and 0.9 < elapsed < 3.0, f"slowloris closed after {elapsed:.2f} s with {data[:30]!r}")
    sock.close()
    sock = short.connect()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    data = read_until_close(sock)
    elapsed = time.monotonic() - started
    check(data.endswith(b"hello\n") and 0.9 < elapsed < 3.0, f"idle keep-alive closed after {elapsed:.2f} s")
    sock.close()


def thousand_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    socks = [server.connect() for _ in range(1000)]
    for sock in socks:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    for sock in socks:
        data = b""
        while not data.endswith(b"hello\n"):
            chunk = sock.recv(4096)
            check(chunk, "a connection closed early")
            data += chunk
    check(curl(f"http://127.0.0.1:{server.port}/") == b"hello\n", "serves beside 1,000 connections")
    for sock in socks:
        sock.close()


def graceful_shutdown():
    victim = Server("--shutdown-grace", "5")
    busy = victim.connect()
    busy.sendall(b"GET /sleep?ms=700 HTTP/1.1\r\nHost: x\r\n\r\n")
    idle = victim.connect()
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    check(idle.recv(4096).endswith(b"hello\n"), "idle connection served")
    time.sleep(0.1)  # lets the sleep request reach its handler; the checks below do not depend on it
    victim.process.send_signal(signal.SIGTERM)
    check(read_until_close(idle) == b"", "idle connection closed at shutdown")
    data = read_until_close(busy)
    check(data.endswith(b"slept\n") and b"Connection: close" in data, f"in-flight request finished: {data!r}")
    check(victim.process.wait(timeout=TIMEOUT) == 0, "exit status 0")
    check(b"exiting" in victim.read_line(), "exit message")


def fetch(*args):
    return subprocess.run(
        [os.path.join(BUILD, "FetchExample"), *args], capture_output=True, timeout=TIMEOUT
    )


def fetch_plain():
    result = fetch(f"http://127.0.0.1:{server.port}/")
    check(result.returncode == 0 and result.stdout == b"hello\n", f"fetch over http: {result}")
    result = fetch("--include", f"http://127.0.0.1:{server.port}/nothing-here")
    check(result.stdout.startswith(b"HTTP/1.1 404"), f"fetch --include: {result.stdout[:40]!r}")


class QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class HTTPSPeer:
    """Python's http.server in TLS on a free loopback port, with a self-signed certificate for
    127.0.0.1 made by openssl in `folder`; serves `folder`."""

    def __init__(self, folder):
        self.cert = os.path.join(folder, "cert.pem")
        key = os.path.join(folder, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key, "-out", self.cert],
            check=True, capture_output=True,
        )
        with open(os.path.join(folder, "hello.txt"), "wb") as file:
            file.write(b"hello over tls\n")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        handler = lambda *a: QuietFileHandler(*a, directory=folder)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def fetch_https():
    with tempfile.TemporaryDirectory() as folder:
        peer = HTTPSPeer(folder)
        try:
            url = f"https://127.0.0.1:{peer.port}/hello.txt"
            result = fetch(url, "--ca-file", peer.cert)
            check(result.returncode == 0 and result.stdout == b"hello over tls\n", f"verified https: {result}")
            result = fetch(url)
            reason = result.stderr.decode()
            check(result.returncode == 1 and result.stdout == b"", f"untrusted certificate refused: {result}")
            check(reason.count("\n") == 1 and "certificate verify failed" in reason, f"one-line reason: {reason!r}")
            result = fetch(url, "--insecure")
            check(result.returncode == 0 and result.stdout == b"hello over tls\n", f"--insecure: {result}")
        finally:
            peer.close()


if __name__ == "__main__":
    started = time.monotonic()
    server = Server()
    short = Server("--header-timeout", "1", "--idle-timeout", "1")
    try:
        for function in [
            curl_keep_alive, curl_http10, curl_chunked_upload, curl_expect_continue, http_client, h11_every_response,
            pipelining, malformed_requests, chunked_body_too_large, slowloris_and_idle, thousand_connections,
            fetch_plain, fetch_https,
        ]:
            test(function)
        check(server.stop() == 0, "exit status after SIGTERM")
        check(short.stop(signal.SIGINT) == 0, "exit status after SIGINT")
        test(graceful_shutdown)
    finally:
        for s in (server, short):
            if s.process.poll() is None:
                s.process.kill()
    print(f"http_integration: {passed} passed, 0 failed in {time.monotonic() - started:.1f} s")
