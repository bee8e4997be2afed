#!/usr/bin/env python3
"""Federation of ChatExample through a real redis-server: three processes, TCP clients on each.

Usage: python3 scripts/chat_federation_test.py Examples/.build/release/ChatExample

Checks: lines relayed both ways; joins, renames and leaves seen everywhere; names unique across
processes (a /nick race between two processes has one winner); /who lists everyone; a SIGKILLed
process's participants announced as left within 15 s; Redis paused (SIGSTOP) for a blip loses
nothing; Redis killed and restarted empty (no persistence) loses only entries appended before
the crash and not yet read, so lines sent during the outage are delivered after it and /who is
whole again; a process started while Redis is down starts and federates once it is up; --plain
federation relays raw lines byte for byte. Loopback only; every wait is bounded.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from chat_line_client import LineClient, nick

BIN = sys.argv[1] if len(sys.argv) > 1 else "Examples/.build/release/ChatExample"
HERE = os.path.dirname(os.path.abspath(__file__))
REDIS_SH = os.path.join(HERE, "redis_server.sh")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


class Redis:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fed-redis-")
        self.port = int(subprocess.check_output(["bash", REDIS_SH, "start", self.dir], text=True).strip())
        self.url = f"redis://127.0.0.1:{self.port}"

    def pid(self):
        with open(os.path.join(self.dir, "redis.pid")) as f:
            return int(f.read().strip())

    def kill(self):
        subprocess.check_call(["bash", REDIS_SH, "kill", self.dir])

    def restart(self):
        subprocess.check_output(["bash", REDIS_SH, "restart", self.dir], text=True)

    def stop(self):
        subprocess.call(["bash", REDIS_SH, "stop", self.dir], stderr=subprocess.DEVNULL)


class Server:
    def __init__(self, redis, node, *extra):
        self.node = node
        self.proc = subprocess.Popen(
            [BIN, "--port", "0", "--host", "127.0.0.1", "--redis", redis.url, "--node", node, "--flood-rate", "0",
             "--log-level", "info", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.logged = threading.Condition()
        self.federating = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        line = self.proc.stdout.readline()
        assert "starting up on port" in line, f"{node}: {line!r}"
        self.port = int(line.split()[-1])

    def _drain(self):
        for line in self.proc.stderr:
            with self.logged:
                self.log.append(line)
                self.logged.notify_all()
            if "federating room" in line:
                self.federating.set()

    def wait_federating(self, timeout=15):
        return self.federating.wait(timeout)

    def wait_log(self, text, timeout=5):
        """Whether a log line containing `text` arrives within `timeout` s. The server writes it
        before the socket write a client may have just read, but this process reads the two pipes
        on different threads: a check right after the client's read must wait for the log's."""
        with self.logged:
            return self.logged.wait_for(lambda: any(text in line for line in self.log), timeout)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Client(LineClient):
    def __init__(self, server):
        super().__init__(socket.create_connection(("127.0.0.1", server.port), timeout=5))

    def name(self):
        line = self.expect("You are now known as") or ""
        return line

    def close(self):
        self.sock.close()


def main():
    started = time.monotonic()
    redis = Redis()
    servers = []
    try:
        a, b, c = (Server(redis, n) for n in ("node-a", "node-b", "node-c"))
        servers += [a, b, c]
        check(all(s.wait_federating() for s in (a, b, c)), "three servers federating")

        a1 = Client(a)
        check(a1.expect("Welcome") is not None and nick(a1, "alice"), "alice on A")
        b1 = Client(b)
        check(a1.expect(" joined") is not None, "A sees a join on B")
        check(nick(b1, "bob"), "bob on B")
        check(a1.expect("is now known as bob") is not None, "A sees B's rename")
        c1 = Client(c)
        check(nick(c1, "carol"), "carol on C")
        check(a1.expect("is now known as carol") and b1.expect("is now known as carol"), "A and B see C's rename")

        a1.send("hello from A")
        check(b1.expect("alice: hello from A") and c1.expect("alice: hello from A"), "A's line reaches B and C")
        c1.send("hello from C")
        check(a1.expect("carol: hello from C") and b1.expect("carol: hello from C"), "C's line reaches A and B")
        b1.send("/me waves")
        check(a1.expect("* bob waves") and c1.expect("* bob waves"), "B's /me reaches A and C")
        for i in range(20):
            a1.send(f"order {i}")
        got = [b1.expect(f"alice: order {i}", timeout=5) is not None for i in range(20)]
        check(all(got) and not any("order" in s for s in b1.seen), "A's 20 lines reach B in order")

        c1.send("/who")
        who = c1.expect("In the room") or ""
        check(all(n in who for n in ("alice", "bob", "carol")) and "(3)" in who, f"/who on C lists all: {who!r}")

        c2 = Client(c)
        c2.send("/nick alice")
        check(c2.expect("The name alice is taken") is not None, "alice cannot be taken on C")

        # A race for one name from two processes: exactly one keeps it.
        a2, b2 = Client(a), Client(b)
        time.sleep(0.3)
        a2.send("/nick dave")
        b2.send("/nick dave")
        refused = [cl.expect("The name dave is taken", timeout=4) is not None for cl in (a2, b2)]
        check(refused.count(True) == 1, f"/nick race across processes: one winner ({refused})")
        a1.send("/who")
        who = a1.expect("In the room") or ""
        check(who.count("dave") == 1, f"one dave in /who: {who!r}")
        for cl in (a2, b2, c2):
            cl.send("/quit")
            cl.close()

        c1.send("/quit")
        check(a1.expect("carol left") and b1.expect("carol left"), "C's leave seen on A and B")
        c1 = Client(c)
        nick(c1, "carol")

        # SIGKILL: B's participants are announced as left by the others within 15 s.
        killed = time.monotonic()
        b.kill()
        seen_a = a1.expect("bob left (connection lost)", timeout=16)
        took = time.monotonic() - killed
        check(seen_a is not None and took <= 15.5, f"SIGKILLed B's bob announced as left on A in {took:.1f} s")
        check(c1.expect("bob left (connection lost)", timeout=3) is not None, "... and on C")

        # A blip: Redis paused (SIGSTOP) for 3 s; lines sent meanwhile arrive after, once.
        os.kill(redis.pid(), signal.SIGSTOP)
        a1.send("during pause from A")
        c1.send("during pause from C")
        time.sleep(3)
        os.kill(redis.pid(), signal.SIGCONT)
        check(c1.expect("alice: during pause from A", 15) and a1.expect("carol: during pause from C", 15),
              "lines sent while Redis was paused are delivered after")
        a1.send("after pause")
        c1.expect("alice: after pause", 5)
        check(not any("during pause" in s for s in c1.seen + a1.seen), "... exactly once")

        # Redis killed and restarted empty: what each process had appended and the others had
        # read is kept; lines sent during the outage wait in the outbox and are delivered after.
        # A server started during the outage starts and federates once Redis is back.
        redis.kill()
        a1.send("during outage from A")
        c1.send("during outage from C")
        d = Server(redis, "node-d")
        servers.append(d)
        d1 = Client(d)
        check(d1.expect("Welcome") is not None, "D starts and serves while Redis is down")
        check(nick(d1, "dora"), "dora on D (alone)")
        time.sleep(1)
        redis.restart()
        check(d.wait_federating(15), "D federates once Redis is back")
        check(c1.expect("alice: during outage from A", 15) and a1.expect("carol: during outage from C", 15),
              "lines sent while Redis was down are delivered after it restarted empty")
        check(a1.expect("may be missing", 5) is not None and c1.expect("may be missing", 5) is not None,
              "after Redis restarted empty, A and C tell their participants history may be missing")
        check(a.wait_log("Redis restarted"), "... and A logs why")
        time.sleep(3)  # one heartbeat period: names and presence are claimed again
        d1.send("hello from D")
        check(a1.expect("dora: hello from D", 10) and c1.expect("dora: hello from D", 10), "D's line reaches A and C")
        a1.send("hello D")
        check(d1.expect("alice: hello D", 10) is not None, "A's line reaches D")
        d1.send("/who")
        who = d1.expect("In the room") or ""
        check(all(n in who for n in ("alice", "carol", "dora")) and "(3)" in who, f"/who whole again after the restart: {who!r}")
        outages = sum(1 for line in a.log if "redis" in line.lower() and ("lost" in line or "unreachable" in line or "refused" in line))
        check(1 <= outages <= 3, f"A logs the outage once or so, not per retry ({outages} lines)")

        # --plain: raw lines byte for byte across processes.
        p1 = Server(redis, "plain-1", "--plain", "--room", "plainroom")
        p2 = Server(redis, "plain-2", "--plain", "--room", "plainroom")
        servers += [p1, p2]
        check(p1.wait_federating() and p2.wait_federating(), "two --plain servers federating")
        x, y = Client(p1), Client(p2)
        time.sleep(0.5)
        x.sock.sendall(b"raw \x01 bytes\t\xff here\n")
        deadline = time.monotonic() + 10
        data = b""
        y.sock.settimeout(1)
        while b"\n" not in data and time.monotonic() < deadline:
            try:
                data += y.sock.recv(4096)
            except socket.timeout:
                pass
        check(data == b"raw \x01 bytes\t\xff here\n", f"--plain line relayed byte for byte ({data!r})")
        check(a1.expect("raw", 1) is None, "rooms are separate")

        # The stream trimmed past a process's last entry: T2 is stopped while T1 appends far
        # more than the stream keeps; once T2 runs again it says history may be missing. Renames,
        # not lines: T1 puts consecutive lines in one entry, each rename is an entry of its own.
        t1 = Server(redis, "trim-1", "--room", "trimroom", "--stream-length", "1")
        t2 = Server(redis, "trim-2", "--room", "trimroom")
        servers += [t1, t2]
        check(t1.wait_federating() and t2.wait_federating(), "two servers in a room with a 1-event stream")
        w, r = Client(t1), Client(t2)
        renamed = nick(w, "writer")
        if not check(renamed and r.expect("is now known as writer") is not None, f"T2 reads T1's events (renamed: {renamed})"):
            print("   writer saw:", w.seen[-5:], "\n   reader saw:", r.seen[-5:])
            print("   T1 log:", "".join(t1.log[-10:]), "   T2 log:", "".join(t2.log[-10:]), sep="\n")
        for i in range(100):
            w.send(f"line {i}")
        got = r.lines_with("writer: line", 100, 15)
        check([g[g.index("writer:"):] for g in got] == [f"writer: line {i}" for i in range(100)],
              f"T1's 100 lines (several to a stream entry) reach T2 once and in order ({len(got)})")
        t2.proc.send_signal(signal.SIGSTOP)
        for i in range(400):
            w.send(f"/nick w{i}")
        stream = "chat:{trimroom}:events"
        # T1 is done when the stream's newest entry is its last rename: resuming T2 earlier lets
        # it read while T1 still appends and trims, which is a second gap (told once, logged twice).
        added, newest, deadline = 0, [], time.monotonic() + 15
        while not (added >= 401 and "w399" in newest) and time.monotonic() < deadline:
            out = subprocess.run(["redis-cli", "-p", str(redis.port), "xinfo", "stream", stream],
                                 capture_output=True, text=True).stdout.split()
            added = int(out[out.index("entries-added") + 1]) if "entries-added" in out else 0
            newest = subprocess.run(["redis-cli", "-p", str(redis.port), "xrevrange", stream, "+", "-", "count", "1"],
                                    capture_output=True, text=True).stdout.split()
            time.sleep(0.05)  # polls redis for the appends T1 makes on its own schedule
        t2.proc.send_signal(signal.SIGCONT)
        check(added >= 401 and "w399" in newest, f"T1 appended its 400 renames ({added}, the last one last)")
        check(r.expect("may be missing", 10) is not None, "T2, trimmed past, tells its participants history may be missing")
        check(r.expect("is now known as w399", 10) is not None, "... and delivers what the stream still holds")
        check(r.expect("may be missing", 1) is None, "... once")
        check(t2.wait_log("left the stream before"), "... and logs it")
    finally:
        for s in servers:
            s.kill(signal.SIGTERM)
        redis.stop()
    print(f"chat_federation_test: {len(failures)} failure(s) in {time.monotonic() - started:.1f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
