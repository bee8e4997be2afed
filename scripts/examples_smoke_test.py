#!/usr/bin/env python3
"""Smoke-tests the small release examples: ProxyExample, UDPEchoExample, RunExample, TailExample.

Usage: python3 scripts/examples_smoke_test.py [BUILD_DIR]   (default Examples/.build/release)

Each example is started on 127.0.0.1 with port 0 (it prints the port it got) and driven by a
Python client. Every wait has a deadline; the script synchronises on output and socket events,
never on sleeps. Exits non-zero with a message on the first failure.
"""

import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "Examples/.build/release"
TIMEOUT = 20.0


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Example:
    """A running example whose standard output is read line by line against deadlines."""

    def __init__(self, name, *args):
        self.name = name
        self.process = subprocess.Popen([os.path.join(BUILD, name), *args], stdout=subprocess.PIPE)
        self.buffer = b""

    def read_line(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    fail(f"{self.name}: no line within {timeout} s (have {self.buffer!r})")
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    fail(f"{self.name}: output ended (exit {self.process.wait()}) after {self.buffer!r}")
                self.buffer += chunk
        finally:
            selector.close()
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def port(self):
        line = self.read_line()
        words = line.replace(",", " ").split()
        if "port" not in words:
            fail(f"{self.name}: expected a port in its first line, got {line!r}")
        return int(words[words.index("port") + 1])

    def stop(self):
        """SIGTERM, then expects a clean exit 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail(f"{self.name}: did not exit within {TIMEOUT} s of SIGTERM")
        if status != 0:
            fail(f"{self.name}: exited {status} after SIGTERM, expected 0")

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def echo_server():
    """A TCP echo server on 127.0.0.1 that half-closes back when its peer does; returns the port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve(connection):
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)

    def accept():
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def test_proxy():
    target = echo_server()
    proxy = Example(
        "ProxyExample", "--listen-host", "127.0.0.1", "--listen-port", "0",
        "--target-host", "127.0.0.1", "--target-port", str(target))
    try:
        port = proxy.port()
        # 4 MB, more than the buffers between us: passes only if both directions keep flowing
        # while the other is full (write + drain), and ends only if our FIN is passed on.
        payload = bytes(range(256)) * (16 * 1024)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
            def send():
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            received = bytearray()
            while data := client.recv(65536):
                received += data
            sender.join(TIMEOUT)
        if bytes(received) != payload:
            fail(f"ProxyExample: echoed {len(received)} bytes, expected the {len(payload)} sent")
        # A second, small connection after the first closed: the proxy kept serving.
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as client:
            client.sendall(b"ping\n")
            client.shutdown(socket.SHUT_WR)
            reply = b""
            while data := client.recv(65536):
                reply += data
        if reply != b"ping\n":
            fail(f"ProxyExample: second connection echoed {reply!r}")
        proxy.stop()
    finally:
        proxy.kill()
    print("ok ProxyExample: 4 MB relayed both ways with half-close, then a second connection")


def test_udp_echo():
    server = Example("UDPEchoExample", "--host", "127.0.0.1", "--port", "0")
    try:
        port = server.port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(TIMEOUT)
            client.bind(("127.0.0.1", 0))
            for message in [b"hello", b"", b"x" * 1400]:
                client.sendto(message, ("127.0.0.1", port))
                reply, sender = client.recvfrom(65536)
                if reply != message or sender != ("127.0.0.1", port):
                    fail(f"UDPEchoExample: sent {message[:20]!r}, got {reply[:20]!r} from {sender}")
        server.stop()
    finally:
        server.kill()
    print("ok UDPEchoExample: three datagrams (one empty) echoed to their sender")


def test_run():
    try:
        result = subprocess.run(
            [os.path.join(BUILD, "RunExample"), "sh", "-c", "echo hi; echo oops >&2; exit 3"],
            capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        fail(f"RunExample: did not finish within {TIMEOUT} s")
    lines = sorted(result.stdout.decode().splitlines())
    if lines != ["err: oops", "out: hi"]:
        fail(f"RunExample: printed {result.stdout!r} (stderr {result.stderr!r})")
    if result.returncode != 3:
        fail(f"RunExample: exited {result.returncode}, expected the child's 3")
    print("ok RunExample: out:/err: lines relayed, exit status 3 passed on")


def test_tail():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "log.txt")
        with open(path, "w") as log:
            log.write("one\ntwo\nthree\n")
        tail = Example("TailExample", "-n", "2", path)
        try:
            for expected in ["two", "three"]:
                if (line := tail.read_line()) != expected:
                    fail(f"TailExample: printed {line!r}, expected {expected!r}")
            for expected in ["four", "five"]:
                with open(path, "a") as log:
                    log.write(expected + "\n")
                if (line := tail.read_line()) != expected:
                    fail(f"TailExample: printed {line!r} after an append, expected {expected!r}")
            tail.stop()
        finally:
            tail.kill()
    print("ok TailExample: last 2 lines, then each appended line")


def main():
    for name in ["ProxyExample", "UDPEchoExample", "RunExample", "TailExample"]:
        if not os.access(os.path.join(BUILD, name), os.X_OK):
            fail(f"{BUILD}/{name} is missing: build with `swift build -c release --package-path Examples` first")
    try:
        test_proxy()
        test_udp_echo()
        test_run()
        test_tail()
    except TimeoutError as error:
        fail(f"a socket wait passed its {TIMEOUT} s deadline: {error}")
    print("examples smoke test passed")


if __name__ == "__main__":
    main()
