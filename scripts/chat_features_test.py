#!/usr/bin/env python3
"""Integration test of the chat protocol: drives the release ChatExample with several socket
clients on 127.0.0.1 and checks which bytes reach whom.

Covers names, commands, join/leave notices, every defence (line cap, control bytes, invalid
UTF-8, flood limit, a client that never reads while others chat at full speed, idle timeout,
full room), graceful shutdown on SIGTERM and SIGINT, logging, --help, and the defences that
--plain keeps. Every wait is on an event with a deadline; nothing sleeps to synchronise.
Usage: chat_features_test.py PATH/TO/ChatExample
"""
import os
import re
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
BINARY = None


class Server:
    """The chat server; its stdout and stderr (logs) are read as one stream of lines."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen(
            [BINARY, "--host", "127.0.0.1", "--port", "0", *flags],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buffer = b""
        self.seen = []
        first = self.read_line()
        assert first.startswith(b"ChatServer starting up on port "), first
        self.port = int(first.split()[-1])

    def read_line(self, timeout=DEADLINE):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"server printed no line within {timeout}s (have {self.buffer!r})")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"server output ended (have {self.buffer!r})")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        self.seen.append(line)
        return line

    def wait_for(self, pattern, timeout=DEADLINE):
        """Reads console and log lines until one matches the regex `pattern`; returns it."""
        end = time.monotonic() + timeout
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        while True:
            line = self.read_line(max(0.01, end - time.monotonic()))
            if regex.search(line):
                return line

    def client(self, welcome=True):
        c = Client(self.port)
        if welcome:
            c.welcome = c.line()
        return c

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig`, waits for 'ChatServer exiting.' and the exit status."""
        self.proc.send_signal(sig)
        self.wait_for(r"^ChatServer exiting\.$")
        return self.proc.wait(timeout=DEADLINE)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)


class Client:
    """A socket client reading lines with deadlines."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        self.welcome = None

    def send(self, data):
        self.sock.sendall(data)

    def raw_line(self, timeout=DEADLINE):
        end = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line within {timeout}s (have {self.buffer!r})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"connection closed (have {self.buffer!r})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"

    def line(self, timeout=DEADLINE):
        return self.raw_line(timeout)[:-1]

    def expect(self, wanted, timeout=DEADLINE):
        line = self.raw_line(timeout)
        if line != wanted:
            raise AssertionError(f"expected {wanted!r}, got {line!r}")

    def expect_closed(self, timeout=DEADLINE):
        """Reads until the server closes the connection (EOF or reset); returns the lines before."""
        end = time.monotonic() + timeout
        data = self.buffer
        self.buffer = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"connection still open after {timeout}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return data.split(b"\n")[:-1]
            data += chunk

    def reset(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def check(name, body):
    global passed, failed
    try:
        body()
        passed += 1
        print(f"ok   {name}", flush=True)
    except Exception as error:  # report and go on to the next check
        failed += 1
        print(f"FAIL {name}: {error!r}", flush=True)


def with_server(flags, body):
    """Runs `body(server)` against a fresh server; checks the server then stops cleanly."""
    server = Server(*flags)
    try:
        body(server)
        assert server.stop() == 0, "exit status"
    finally:
        server.kill()


def sanitised(payload):
    """What the server should relay for `payload`: UTF-8 with replacements, no control characters."""
    text = payload.decode("utf-8", "replace")
    kept = "".join(ch for ch in text if ch == "\t" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0))
    return kept.encode()


# ---------------------------------------------------------------- the checks


def help_documents_every_flag():
    out = subprocess.run([BINARY, "--help"], capture_output=True, timeout=DEADLINE)
    assert out.returncode == 0, out.returncode
    text = out.stdout.decode()
    for flag in ("--host", "--port", "--plain", "--verbose", "--log-level", "--max-line-length", "--max-queued-bytes",
                 "--flood-rate", "--flood-burst", "--idle-timeout", "--max-participants", "--shutdown-timeout"):
        assert flag in text, f"{flag} missing from --help"
    # Every option states its default.
    options = re.split(r"\n  (?=--)", text.split("OPTIONS:", 1)[1])
    for option in options:
        if option.strip().startswith("--") and "<" in option.split("\n")[0]:
            assert "default" in option, f"no default documented in: {option.strip()}"


def names_welcome_and_chat(server):
    a = server.client()
    assert b"guest-1" in a.welcome and b"/help" in a.welcome, a.welcome
    b = server.client()
    assert b"guest-2" in b.welcome, b.welcome
    a.expect(b"guest-2 joined\n")
    c = server.client()
    assert b"guest-3" in c.welcome, c.welcome
    a.expect(b"guest-3 joined\n")
    b.expect(b"guest-3 joined\n")
    a.send(b"hello from A\n")
    b.expect(b"guest-1: hello from A\n")
    c.expect(b"guest-1: hello from A\n")
    # Never back to the sender: A's next line is B's, which B sent after A's.
    b.send(b"hi A\n")
    a.expect(b"guest-2: hi A\n")
    c.expect(b"guest-2: hi A\n")
    server.wait_for(r"guest-3 .*joined")
    for x in (a, b, c):
        x.close()


def nick_rules(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    a.send(b"/nick alice\n")
    assert b"alice" in a.line(), "no confirmation"
    b.expect(b"guest-1 is now known as alice\n")
    server.wait_for(r"guest-1 .*is now alice")
    # Refusals go to the sender only, and nothing changes.
    for bad in (b"alice", b"ALICE", b"two words", b"x" * 33, b"bell\x07", b""):
        b.send(b"/nick " + bad + b"\n")
        reply = b.line()
        assert b"guest-2" in reply or b"Usage" in reply or b"Names" in reply, reply
    server.wait_for(r"refused /nick")
    b.send(b"/nick " + b"y" * 32 + b"\n")
    assert b"y" * 32 in b.line()
    a.expect(b"guest-2 is now known as " + b"y" * 32 + b"\n")  # the first thing A sees: no refusal leaked
    b.send(b"/who\n")
    assert b.line() == b"In the room (2): alice, " + b"y" * 32
    a.close()
    b.close()


def commands(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    a.send(b"/me waves\n")
    b.expect(b"* guest-1 waves\n")
    a.send(b"/help\n")
    help_line = a.line()
    for command in (b"/nick", b"/who", b"/me", b"/help", b"/quit"):
        assert command in help_line, help_line
    a.send(b"/frobnicate now\n")
    assert b"/frobnicate" in a.line()
    server.wait_for(r"refused unknown command /frobnicate")
    a.send(b"marker\n")
    b.expect(b"guest-1: marker\n")  # neither /help nor /frobnicate reached B
    b.send(b"/quit\n")
    assert b"Goodbye" in b.line()
    b.expect_closed()
    a.expect(b"guest-2 left\n")
    server.wait_for(r"guest-2 .*left: quit")
    a.close()


def leaves_announced(server):
    a = server.client()
    b = server.client()
    c = server.client()
    for _ in range(2):
        a.line()
    b.expect(b"guest-3 joined\n")  # unread bytes would make close() send a reset
    b.close()
    a.expect(b"guest-2 left\n")
    c.reset()
    assert a.line().startswith(b"guest-3 left"), "reset not announced"
    server.wait_for(r"guest-3 .*left")
    a.close()


def overlong_line(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    a.send(b"x" * 4097 + b"\n" + b"y" * 4096 + b"\n")
    assert b"4096" in a.line(), "no reply to the overlong line"
    b.expect(b"guest-1: " + b"y" * 4096 + b"\n")
    # A line far over the cap, in pieces: still one reply, and the connection stays usable.
    for _ in range(10):
        a.send(b"z" * 100_000)
    a.send(b"\nafter\n")
    assert b"4096" in a.line()
    b.expect(b"guest-1: after\n")
    server.wait_for(r"refused a line longer than 4096 bytes")
    a.close()
    b.close()


def control_bytes_and_invalid_utf8(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    payloads = [
        b"\x1b[2J\x1b[31mred\x1b[0m alert\x07\x07",
        b"nul\x00 del\x7f bs\x08 cr\r mid vt\x0b ff\x0c tab\tkept",
        b"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89",
        b"bad \xff\xfe \xc0\xaf \xed\xa0\x80 \xe2\x82 end",
        b"c1 \xc2\x9b31m \xc2\x85 gone",
    ]
    for payload in payloads:
        a.send(payload + b"\r\n")
        line = b.raw_line()
        assert line == b"guest-1: " + sanitised(payload) + b"\n", (payload, line)
        line.decode("utf-8")  # valid UTF-8
        assert not any(byte < 0x20 and byte not in (0x09, 0x0A) or byte == 0x7F for byte in line), line
    a.send(b"\x1b\x07\r\n")  # nothing left to say: nothing relayed
    a.send(b"marker\n")
    b.expect(b"guest-1: marker\n")
    a.close()
    b.close()


def flood(server):
    a = server.client()
    b = server.client()
    c = server.client()
    for _ in range(2):
        a.line()
    b.line()
    a.send(b"".join(b"flood %d\n" % i for i in range(200)))
    notice = a.line()
    assert b"too fast" in notice, notice
    c.send(b"marker\n")
    relayed = []
    while True:
        line = b.line()
        if line == b"guest-3: marker":
            break
        relayed.append(line)
    assert 10 <= len(relayed) <= 12, f"{len(relayed)} flood lines relayed"
    assert relayed[:10] == [b"guest-1: flood %d" % i for i in range(10)], relayed[:10]
    a.expect(b"guest-3: marker\n")  # one notice for the whole burst, not one per line
    server.wait_for(r"guest-1 .*refused lines over the flood limit")
    # After a pause the bucket refills: lines go through again. /quit is never limited.
    time.sleep(2.2)  # the refill is time itself, not an event
    a.send(b"calm again\n")
    b.expect(b"guest-1: calm again\n")
    for x in (a, b, c):
        x.close()


def slow_consumer(flags, prefixes, plain=False):
    """Senders chat at full speed while one client never reads: the others get every line, the
    sleeper is disconnected with a log line, and the server stays responsive."""
    server = Server(*flags)
    try:
        readers = [server.client(welcome=not plain) for _ in range(2)]
        senders = [server.client(welcome=not plain) for _ in range(2)]
        sleeper = Client(server.port, rcvbuf=4096)
        if plain:
            for _ in range(5):
                server.wait_for(r"^Participant joined chat\.$")
        else:
            for r in readers:  # drain the join notices
                while not r.line().startswith(b"guest-5 joined"):
                    pass
            for s in senders:
                while not s.line().startswith(b"guest-5 joined"):
                    pass
        line_size = 1000
        per_sender = 64 * 190  # 12 MB each: far more than the kernel buffers and the bound
        lines = [s_prefix + b"x" * (line_size - len(s_prefix) - 1) + b"\n" for s_prefix in (b"A", b"B")]
        chunks = [line * 64 for line in lines]
        sent = [0, 0]
        counts = [0, 0]
        tails = [b"", b""]
        sleeper_gone = False
        started = time.monotonic()
        for s in senders:
            s.sock.setblocking(False)
        for r in readers:
            r.sock.setblocking(False)
        pending = [b"", b""]
        while (sent[0] < per_sender or sent[1] < per_sender or pending[0] or pending[1]
               or min(counts) < 2 * per_sender):
            assert time.monotonic() - started < 60, f"stalled: sent {sent}, received {counts}"
            # The readers are real readers: senders wait while either is more than 512 lines
            # (0.5 MB, half the bound) behind, so a loaded machine cannot make this Python loop
            # the slow consumer. The sleeper still falls behind by everything.
            behind = sent[0] + sent[1] - min(counts)
            writable = [s.sock for i, s in enumerate(senders)
                        if pending[i] or (sent[i] < per_sender and behind < 512)]
            rlist, wlist, _ = select.select([r.sock for r in readers] + [s.sock for s in senders], writable, [], 5)
            for i, s in enumerate(senders):
                if s.sock in wlist:
                    if not pending[i]:
                        pending[i] = chunks[i]
                        sent[i] += 64
                    try:
                        n = s.sock.send(pending[i])
                        pending[i] = pending[i][n:]
                    except BlockingIOError:
                        pass
                if s.sock in rlist:
                    try:
                        s.sock.recv(1 << 20)  # the other sender's lines and notices
                    except BlockingIOError:
                        pass
            for i, r in enumerate(readers):
                if r.sock in rlist:
                    try:
                        received = r.sock.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    assert received, f"reader {i} was disconnected after {counts[i]} lines (sent {sent})"
                    data = tails[i] + received
                    complete, _, tails[i] = data.rpartition(b"\n")
                    for line in complete.split(b"\n"):
                        if any(line.startswith(p) for p in prefixes):
                            counts[i] += 1
                        elif b"left" in line:
                            sleeper_gone = True
        elapsed = time.monotonic() - started
        assert counts == [2 * per_sender, 2 * per_sender], counts
        if plain:
            server.wait_for(r"^Participant left chat\.$")
        else:
            assert sleeper_gone or readers[0].line().startswith(b"guest-5 left"), "no leave notice for the sleeper"
        server.wait_for(r"disconnected: not reading")
        sleeper.expect_closed()
        # The room still works at once.
        for s in senders + readers:
            s.sock.setblocking(True)
        senders[0].send(b"still here\n")
        wanted = b"still here\n" if plain else b"guest-3: still here\n"
        while readers[0].raw_line() != wanted:
            pass
        print(f"     ({'plain' if plain else 'chat'}: {2 * per_sender * line_size / elapsed / 1e6:.0f} MB/s to each reader)")
        for x in readers + senders:
            x.close()
        assert server.stop() == 0
    finally:
        server.kill()


def idle_timeout(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    # B keeps talking, one line per round trip, until A (silent) is timed out.
    while True:
        b.send(b"ping\n")
        line = a.line(timeout=5)
        if line != b"guest-2: ping":
            break
    assert b"disconnected" in line, line
    a.expect_closed()
    b.expect(b"guest-1 left (idle too long)\n")
    server.wait_for(r"guest-1 .*left: idle timeout")
    b.close()


def full_room(server):
    a = server.client()
    b = server.client()
    a.expect(b"guest-2 joined\n")
    c = Client(server.port)
    assert b"full" in c.line(), "no room-full line"
    c.expect_closed()
    server.wait_for(r"room is full")
    a.send(b"only two\n")
    b.expect(b"guest-1: only two\n")  # C was never a participant: no join, no leave
    b.send(b"/quit\n")
    b.expect_closed()
    a.expect(b"guest-2 left\n")
    d = server.client()  # a place is free again
    assert b"guest-" in d.welcome
    a.close()
    d.close()


def graceful_shutdown(sig):
    def body():
        server = Server()
        try:
            a = server.client()
            b = server.client()
            a.expect(b"guest-2 joined\n")
            server.proc.send_signal(sig)
            server.wait_for(r"SIG(TERM|INT) received")
            for x in (a, b):
                lines = x.expect_closed()
                assert len(lines) == 1 and b"shutting down" in lines[0], lines
            server.wait_for(r"^ChatServer exiting\.$")
            assert server.proc.wait(timeout=DEADLINE) == 0
            try:
                Client(server.port).close()
                raise AssertionError("still accepting after shutdown")
            except ConnectionRefusedError:
                pass
        finally:
            server.kill()
    return body


def shutdown_flushes_queued_lines():
    """Lines queued when the signal comes still reach a client that reads slowly."""
    server = Server("--flood-rate", "0")
    try:
        a = server.client()
        b = Client(server.port, rcvbuf=4096)
        b.welcome = b.line()
        a.expect(b"guest-2 joined\n")
        a.send(b"".join(b"line %05d " % i + b"x" * 1000 + b"\n" for i in range(600)))  # ~600 KB
        a.send(b"/who\n")
        assert a.line().startswith(b"In the room")  # A's lines were all read and queued for B
        server.proc.send_signal(signal.SIGTERM)
        server.wait_for(r"SIGTERM received")
        lines = b.expect_closed()
        chat = [line for line in lines if line.startswith(b"guest-1: line ")]
        assert len(chat) == 600, f"{len(chat)} of 600 queued lines arrived"
        assert b"shutting down" in lines[-1], lines[-1]
        assert server.proc.wait(timeout=DEADLINE) == 0
        a.close()
    finally:
        server.kill()


def logging_levels():
    server = Server("--log-level", "debug")
    try:
        a = server.client()
        b = server.client()
        a.send(b"logged at debug\n")
        b.expect(b"guest-1: logged at debug\n")
        server.wait_for(r"debug .*guest-1: logged at debug")
        assert server.stop() == 0
    finally:
        server.kill()
    server = Server()
    try:
        a = server.client()
        b = server.client()
        a.send(b"not logged at info\n")
        b.expect(b"guest-1: not logged at info\n")
        a.close()
        b.close()
        assert server.stop() == 0
        assert not any(b"not logged" in line for line in server.seen), "a chat line was logged above debug"
        joins = [line for line in server.seen if b"joined" in line]
        leaves = [line for line in server.seen if b" left: " in line]
        assert len(joins) == 2 and len(leaves) == 2, server.seen
    finally:
        server.kill()


def plain_keeps_line_cap_and_console():
    server = Server("--plain")
    try:
        a = Client(server.port)
        server.wait_for(r"^Participant joined chat\.$")
        b = Client(server.port)
        assert server.read_line() == b"Participant joined chat."
        a.send(b"/nick raw \x1b\xff\r\n")
        b.expect(b"/nick raw \x1b\xff\r\n")  # verbatim: no names, no commands, no sanitising
        a.send(b"x" * 70_000 + b"\nafter\n")
        b.expect(b"after\n")
        a.close()
        assert server.read_line() == b"Participant left chat."
        b.close()
        assert server.read_line() == b"Participant left chat."
        assert server.stop() == 0
        assert server.seen[-1] == b"ChatServer exiting."
    finally:
        server.kill()


def main():
    global BINARY
    BINARY = sys.argv[1]
    check("--help documents every flag with its default", help_documents_every_flag)
    check("welcome, guest-N names, joins announced, 'name: text' to the others only",
          lambda: with_server([], names_welcome_and_chat))
    check("/nick renames and is announced; taken or invalid names are refused to the sender only",
          lambda: with_server([], nick_rules))
    check("/me, /help, unknown commands and /quit", lambda: with_server([], commands))
    check("leaves by close and by reset are announced", lambda: with_server([], leaves_announced))
    check("an overlong line is refused, not relayed, and the connection stays usable",
          lambda: with_server([], overlong_line))
    check("control bytes are stripped and invalid UTF-8 replaced before relaying",
          lambda: with_server([], control_bytes_and_invalid_utf8))
    check("a flood is cut to the burst with one notice; lines pass again after a pause", lambda: with_server([], flood))
    check("a client that never reads is disconnected; the others get every line (chat, no flood limit)",
          lambda: slow_consumer(["--flood-rate", "0"], [b"guest-3: A", b"guest-4: B"]))
    check("a client that never reads is disconnected; the others get every line (--plain)",
          lambda: slow_consumer(["--plain"], [b"A", b"B"], plain=True))
    check("--idle-timeout disconnects a silent participant and says why",
          lambda: with_server(["--idle-timeout", "0.5", "--flood-rate", "0"], idle_timeout))
    check("--max-participants: one more is told the room is full and closed",
          lambda: with_server(["--max-participants", "2"], full_room))
    check("SIGTERM: stop accepting, tell everyone, close, exit 0", graceful_shutdown(signal.SIGTERM))
    check("SIGINT: the same", graceful_shutdown(signal.SIGINT))
    check("shutdown flushes the lines already queued", shutdown_flushes_queued_lines)
    check("logs joins and leaves at info, chat lines only at debug", logging_levels)
    check("--plain relays verbatim, keeps the line cap and the seed's console", plain_keeps_line_cap_and_console)
    print(f"chat features: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
