"""A line client for the chat tests: sends lines, waits for lines that contain a text."""

import socket
import time


class LineClient:
    """One chat connection over `sock`; lines read while waiting for another are kept."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.seen = []

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def expect(self, needle, timeout=10):
        """Waits for a line containing `needle` (lines read meanwhile are kept); returns it or None."""
        for line in self.seen:
            if needle in line:
                self.seen.remove(line)
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                line = raw.decode(errors="replace")
                if needle in line:
                    return line
                self.seen.append(line)
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            self.buffer += data
        return None

    def lines_with(self, needle, count, timeout):
        """The next `count` lines containing `needle`, in the order received (fewer on timeout)."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            line = self.expect(needle, max(0.01, deadline - time.monotonic()))
            if line is None:
                break
            got.append(line)
        return got


def nick(client, name):
    """Renames `client`; True once the server confirms."""
    client.send(f"/nick {name}")
    return client.expect(f"You are now known as {name}.") is not None
