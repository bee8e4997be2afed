#!/usr/bin/env python3
"""Federation across (simulated) machines: network namespaces the test creates and removes.

Usage: python3 scripts/chat_federation_netns_test.py Examples/.build/release/ChatExample

Three namespaces: `redis` holds a redis-server, `a` and `b` each a ChatExample that reaches Redis
over its own veth pair (10.77.1.0/24 and 10.77.2.0/24), never over loopback. Clients connect
inside a and b (a socket is created in a namespace by entering it with setns for that one call).

Checks: relay both ways and presence (/who) over the veth addresses; then a's link is cut
(`ip link set ... down`) for CUT_SECONDS (default 20, as the issue asks): a keeps serving its own
participants, b announces a's participants as left (a's heartbeat expired), lines sent on both
sides meanwhile wait; once the link is up again every line reaches the other side, once and in
order, and /who on b lists a's participants again.

Needs root (CAP_NET_ADMIN) for `ip netns`. Without it the test says so and exits 1, unless
FEDERATION_NETNS_SKIP=1, which makes it exit 0 after saying it skipped. Traffic never leaves the
namespaces it creates; everything it starts is stopped and every namespace removed, also on
failure.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from chat_line_client import LineClient, nick

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "Examples/.build/release/ChatExample")
CUT_SECONDS = float(os.environ.get("CUT_SECONDS", "20"))
TAG = f"fed{os.getpid()}"
NS = {"redis": f"{TAG}-r", "a": f"{TAG}-a", "b": f"{TAG}-b"}
REDIS_ON = {"a": "10.77.1.1", "b": "10.77.2.1"}
HOST_ADDR = {"a": "10.77.1.2", "b": "10.77.2.2"}
CLONE_NEWNET = 0x40000000
failures = []
processes = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def ip(*args, ns=None, check_rc=True):
    command = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if check_rc and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result


def can_make_namespaces():
    probe = f"{TAG}-probe"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if result.returncode != 0:
        return result.stderr.strip() or "ip netns add failed"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def make_hosts():
    for ns in NS.values():
        ip("netns", "add", ns)
        ip("link", "set", "lo", "up", ns=ns)
    for side in ("a", "b"):
        outer, inner = f"{TAG}{side}r", f"{TAG}{side}h"
        ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        ip("link", "set", outer, "netns", NS["redis"])
        ip("link", "set", inner, "netns", NS[side])
        ip("addr", "add", f"{REDIS_ON[side]}/24", "dev", outer, ns=NS["redis"])
        ip("link", "set", outer, "up", ns=NS["redis"])
        ip("addr", "add", f"{HOST_ADDR[side]}/24", "dev", inner, ns=NS[side])
        ip("link", "set", inner, "up", ns=NS[side])


def remove_hosts():
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def link(side, state):
    ip("link", "set", f"{TAG}{side}h", state, ns=NS[side])


_libc = ctypes.CDLL(None, use_errno=True)
_setns_lock = threading.Lock()


def connect_in(ns, port, host="127.0.0.1"):
    """A TCP connection made from inside namespace `ns` (setns affects only this thread)."""
    with _setns_lock:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                return socket.create_connection((host, port), timeout=5)
            finally:
                if _libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(home)
            os.close(target)


def redis_ping(ns, host):
    out = subprocess.run(["ip", "netns", "exec", ns, "redis-cli", "-h", host, "-p", "6379", "ping"],
                         capture_output=True, text=True)
    return out.stdout.strip() == "PONG"


class Server:
    def __init__(self, side):
        self.side = side
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS[side], BIN, "--port", "0", "--host", "127.0.0.1", "--redis",
             f"redis://{REDIS_ON[side]}:6379", "--node", f"host-{side}", "--flood-rate", "0", "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(self.proc)
        self.log = []
        self.federating = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()
        line = self.proc.stdout.readline()
        assert "starting up on port" in line, f"{side}: {line!r}"
        self.port = int(line.split()[-1])

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)
            if "federating room" in line:
                self.federating.set()


class Client(LineClient):
    def __init__(self, server):
        super().__init__(connect_in(NS[server.side], server.port))


def main():
    problem = can_make_namespaces()
    if problem:
        print(f"chat_federation_netns_test: cannot create network namespaces ({problem}); "
              "this test needs root or CAP_NET_ADMIN.", flush=True)
        if os.environ.get("FEDERATION_NETNS_SKIP") == "1":
            print("SKIPPED (FEDERATION_NETNS_SKIP=1)")
            return 0
        print("FAIL (set FEDERATION_NETNS_SKIP=1 to skip on purpose)")
        return 1
    started = time.monotonic()
    try:
        make_hosts()
        redis = subprocess.Popen(
            ["ip", "netns", "exec", NS["redis"], "redis-server", "--port", "6379", "--bind", REDIS_ON["a"],
             REDIS_ON["b"], "--save", "", "--appendonly", "no", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(redis)
        deadline = time.monotonic() + 10
        while not (redis_ping(NS["a"], REDIS_ON["a"]) and redis_ping(NS["b"], REDIS_ON["b"])):
            if time.monotonic() > deadline or redis.poll() is not None:
                raise RuntimeError("redis-server in its namespace did not answer over the veth pairs")
            time.sleep(0.05)
        check(not redis_ping(NS["a"], "127.0.0.1"), "host a has no Redis on its own loopback")

        a, b = Server("a"), Server("b")
        check(a.federating.wait(15) and b.federating.wait(15), "a and b federating through 10.77.1.1 / 10.77.2.1")
        alice = Client(a)
        check(nick(alice, "alice"), "alice on a")
        carol = Client(a)
        check(nick(carol, "carol"), "carol on a")
        bob = Client(b)
        check(nick(bob, "bob"), "bob on b")
        check(alice.expect("is now known as bob") is not None, "a sees b's rename")

        alice.send("hello from a")
        check(bob.expect("alice: hello from a") is not None, "relay: a's line reaches b")
        bob.send("hello from b")
        check(alice.expect("bob: hello from b") is not None and carol.expect("bob: hello from b") is not None,
              "relay: b's line reaches a")
        bob.send("/who")
        who = bob.expect("In the room") or ""
        check(all(n in who for n in ("alice", "bob", "carol")) and "(3)" in who, f"presence: /who on b lists all: {who!r}")

        # The cut: a's only link goes down. a keeps serving its own; b sees a's people leave.
        link("a", "down")
        cut = time.monotonic()
        check(not redis_ping(NS["a"], REDIS_ON["a"]), "link cut: Redis unreachable from a")
        for i in range(10):
            alice.send(f"during cut a {i}")
            bob.send(f"during cut b {i}")
        local = carol.lines_with("alice: during cut a", 10, 10)
        check(len(local) == 10, f"during the cut a serves its own participants ({len(local)}/10)")
        left = bob.expect("alice left (connection lost)", timeout=CUT_SECONDS + 5)
        if CUT_SECONDS >= 15:
            took = time.monotonic() - cut
            check(left is not None and took <= 15.5,
                  f"during the cut b announces a's participants as left ({took:.1f} s after it)")
        remaining = CUT_SECONDS - (time.monotonic() - cut)
        if remaining > 0:
            time.sleep(remaining)  # the outage itself: its length is the point, not a synchronisation
        leaked = [line for line in bob.seen if "during cut a" in line]
        check(not leaked, "nothing of a's reached b while the link was down")

        link("a", "up")
        healed = time.monotonic()
        at_b = bob.lines_with("alice: during cut a", 10, 30)
        at_a = alice.lines_with("bob: during cut b", 10, 30)
        at_carol = carol.lines_with("bob: during cut b", 10, 30)
        took = time.monotonic() - healed
        expected_a = [f"alice: during cut a {i}" for i in range(10)]
        expected_b = [f"bob: during cut b {i}" for i in range(10)]
        check([l[l.index("alice:"):] for l in at_b] == expected_a,
              f"after the heal b has all 10 of a's lines, in order ({len(at_b)}, {took:.1f} s)")
        check([l[l.index("bob:"):] for l in at_a] == expected_b and [l[l.index("bob:"):] for l in at_carol] == expected_b,
              f"after the heal a's participants have all 10 of b's lines, in order ({len(at_a)}, {len(at_carol)})")
        alice.send("after heal")
        check(bob.expect("alice: after heal") is not None, "relay works again after the heal")
        dupes = bob.lines_with("alice: during cut a", 1, 1) + alice.lines_with("bob: during cut b", 1, 0.5)
        check(not dupes, "no line delivered twice")
        back = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bob.send("/who")
            back = bob.expect("In the room") or ""
            if "alice" in back and "carol" in back:
                break
            time.sleep(0.5)  # /who is polled until a's heartbeat re-claims its names (every 2 s)
        check("alice" in back and "carol" in back, f"presence: /who on b lists a's participants again: {back!r}")
    except Exception as error:  # a setup step failed: report it as a failure, clean up below
        check(False, f"unexpected: {error}")
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        remove_hosts()
    left_over = [ns for ns in NS.values() if ns in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                                   text=True).stdout]
    check(not left_over, "every namespace removed")
    print(f"{'FAILED' if failures else 'PASSED'} in {time.monotonic() - started:.1f} s "
          f"({len(failures)} failure(s))", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
