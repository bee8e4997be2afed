#!/usr/bin/env python3
"""Integration test: drives the release ChatExample --plain (the seed's protocol) with real `nc`
clients on 127.0.0.1. The chat protocol's features are tested by chat_features_test.py.

Every wait is on an event (a line printed by the server, a line received by a client) with a
deadline; nothing sleeps to synchronise. Usage: chat_integration.py PATH/TO/ChatExample
"""
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

DEADLINE = 10.0
passed = 0
failed = 0


class LineProcess:
    """A child process whose stdout is read line by line, with deadlines."""

    def __init__(self, args, stdin=subprocess.PIPE):
        self.proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buffer = b""
        self.seen = []

    def read_line(self, timeout=DEADLINE):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line within {timeout}s (have {self.buffer!r})")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"stream ended (have {self.buffer!r})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        self.seen.append(line + b"\n")
        return line + b"\n"

    def expect(self, wanted, timeout=DEADLINE):
        line = self.read_line(timeout)
        if line != wanted:
            raise AssertionError(f"expected {wanted!r}, got {line!r}")

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=DEADLINE)


def check(name, body):
    global passed, failed
    try:
        body()
        passed += 1
        print(f"ok   {name}")
    except Exception as error:  # report and go on to the next check
        failed += 1
        print(f"FAIL {name}: {error}")


def start_server(binary, *flags):
    server = LineProcess([binary, "--plain", "--host", "127.0.0.1", "--port", "0", *flags], stdin=subprocess.DEVNULL)
    first = server.read_line().decode()
    assert first.startswith("ChatServer starting up on port "), first
    return server, int(first.rsplit(" ", 1)[1])


def join(server, port):
    client = LineProcess(["nc", "127.0.0.1", str(port)])
    server.expect(b"Participant joined chat.\n")
    return client


def main():
    binary = sys.argv[1]

    def help_works():
        out = subprocess.run([binary, "--help"], capture_output=True, timeout=DEADLINE)
        assert out.returncode == 0, out.returncode
        text = out.stdout.decode()
        for flag in ("--port", "--host", "--plain", "--verbose"):
            assert flag in text, f"{flag} missing from --help"

    check("--help documents the flags and exits 0", help_works)

    server, port = start_server(binary)
    a = join(server, port)
    b = join(server, port)
    c = join(server, port)

    def relays_to_others():
        a.send(b"hello from A\n")
        b.expect(b"hello from A\n")
        c.expect(b"hello from A\n")

    def never_back_to_sender():
        # B's marker is A's first line: had A's own line come back, it would have come first.
        b.send(b"marker from B\n")
        a.expect(b"marker from B\n")
        c.expect(b"marker from B\n")

    def byte_for_byte():
        payload = b"tab\there, caf\xc3\xa9, raw \xff byte\r\n"
        c.send(payload)
        a.expect(payload)
        b.expect(payload)

    def split_line_joined():
        a.send(b"first half ")
        a.send(b"second half\n")
        b.expect(b"first half second half\n")
        c.expect(b"first half second half\n")

    def leaver_removed():
        a.stop()
        server.expect(b"Participant left chat.\n")
        b.send(b"still here\n")
        c.expect(b"still here\n")

    def reset_survived():
        sock = socket.create_connection(("127.0.0.1", port))
        server.expect(b"Participant joined chat.\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST
        server.expect(b"Participant left chat.\n")
        c.send(b"after reset\n")
        b.expect(b"after reset\n")

    def no_chat_lines_without_verbose():
        assert not any(line.startswith(b"Chat:") for line in server.seen), server.seen

    check("a line reaches every other participant", relays_to_others)
    check("a line never comes back to its sender", never_back_to_sender)
    check("lines are relayed byte for byte (CR, tab, UTF-8, invalid bytes)", byte_for_byte)
    check("a line sent in two pieces arrives as one", split_line_joined)
    check("a participant who leaves is removed; the rest still chat", leaver_removed)
    check("a participant who resets is removed; the rest still chat", reset_survived)
    check("no per-line console output without --verbose", no_chat_lines_without_verbose)

    def sigterm_exits_cleanly():
        server.proc.send_signal(signal.SIGTERM)
        lines = []
        while True:
            line = server.read_line()
            lines.append(line)
            if line == b"ChatServer exiting.\n":
                break
        code = server.proc.wait(timeout=DEADLINE)
        assert code == 0, f"exit status {code}"

    check("SIGTERM prints 'ChatServer exiting.' and exits 0", sigterm_exits_cleanly)
    for client in (b, c):
        client.stop()

    def verbose_and_sigint():
        server, port = start_server(binary, "--verbose")
        x = join(server, port)
        y = join(server, port)
        x.send(b"loud\n")
        y.expect(b"loud\n")
        server.expect(b"Chat: loud\n")
        server.proc.send_signal(signal.SIGINT)
        while server.read_line() != b"ChatServer exiting.\n":
            pass
        assert server.proc.wait(timeout=DEADLINE) == 0
        x.stop()
        y.stop()

    check("--verbose prints 'Chat: ...'; SIGINT exits 0", verbose_and_sigint)

    print(f"integration: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
