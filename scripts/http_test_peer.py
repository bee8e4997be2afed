#!/usr/bin/env python3
"""An HTTP/1.1 peer for the HTTPClient tests, on Python's http.server (ThreadingHTTPServer).

Usage: python3 scripts/http_test_peer.py   (prints 'port N' once listening on 127.0.0.1;
exits when its standard input closes, so a test that dies leaves nothing behind)

Routes: GET /hello (Content-Length), GET /chunked (chunked), GET /close (body until close),
POST /echo (Content-Length or chunked request body, echoed with Content-Length),
GET /redirect (302 to /hello), GET /redirect-loop, GET /slow (answers after 3 s),
GET /connections (how many connections were accepted so far).
"""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

connections = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def log_message(self, *args):
        pass

    def send_body(self, body, status=200, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hello":
            self.send_body(b"hello\n")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"a\n", b"bb\n", b"ccc\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close\n")
            self.close_connection = True
        elif self.path == "/redirect":
            self.send_body(b"moved\n", 302, [("Location", "/hello")])
        elif self.path == "/redirect-loop":
            self.send_body(b"again\n", 302, [("Location", "/redirect-loop")])
        elif self.path == "/slow":
            threading.Event().wait(3)
            self.send_body(b"slow\n")
        elif self.path == "/connections":
            self.send_body(b"%d\n" % connections)
        else:
            self.send_body(b"not found\n", 404)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_body(body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"port {server.server_address[1]}", flush=True)
sys.stdin.read()
