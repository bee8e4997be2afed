#!/usr/bin/env python3
"""Fault injection against the release ChatExample --plain while chatbench fanout runs between
well-behaved clients.

While chatbench's clients broadcast to each other, misbehaving clients come and go:
  reset      connect, read some of the broadcast, then close with RST (and unread data queued)
  halfclose  connect, send a line, shut down writing (FIN), read until the server closes
  noread     connect and never read (tiny receive buffer), held until the end, then reset
  trickle    send a line one byte at a time
  bigline    send 1 MiB with no newline, then a short line: the server must refuse the long
             line and keep the connection usable
  cycles     connect/close as fast as possible, half with FIN, half with RST, some before the
             server has even accepted
Pass: chatbench reports nothing lost, duplicated, reordered or echoed and no client closed; the
server is alive and still relays; its open files return to the baseline once the faulty clients
are gone; it exits 0 on SIGTERM.

    python3 scripts/fault_injection.py .build-rel/release/ChatExample            # quick (~15 s)
    python3 scripts/fault_injection.py .build-rel/release/ChatExample --full     # ~60 s, more faults
"""

import argparse
import os
import random
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_support import (  # noqa: E402
    Server, build_chatbench, connect, fail, parse_chatbench, raise_fd_limit, relay_works, reset)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.problems = []

    def add(self, name, count=1):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + count

    def problem(self, text):
        with self.lock:
            self.problems.append(text)


def read_some(sock, at_least, timeout=5.0):
    """Reads until `at_least` bytes came (or the deadline); returns the count."""
    sock.settimeout(timeout)
    got = 0
    try:
        while got < at_least:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    except (socket.timeout, OSError):
        pass
    return got


def until(stop, deadline):
    return not stop.is_set() and time.time() < deadline


def fault_reset(port, stop, deadline, counters):
    while until(stop, deadline):
        try:
            sock = connect(port)
            # Mid-broadcast: wait for some of the traffic, leave more unread, then RST.
            read_some(sock, 200, timeout=0.5)
            time.sleep(random.uniform(0, 0.05))
            reset(sock)
            counters.add("reset")
        except OSError as error:
            counters.problem(f"reset client: {error}")
        time.sleep(0.01)


def fault_halfclose(port, stop, deadline, counters):
    while until(stop, deadline):
        try:
            sock = connect(port)
            sock.sendall(b"half-closing after this line\n")
            sock.shutdown(socket.SHUT_WR)
            # The server sees the end of our stream and closes its side: we must see EOF.
            sock.settimeout(10)
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
            sock.close()
            counters.add("halfclose")
        except socket.timeout:
            counters.problem("half-closed client: the server did not close within 10 s")
        except OSError as error:
            counters.problem(f"half-closed client: {error}")
        time.sleep(0.05)


def fault_noread(port, count, held, counters):
    for _ in range(count):
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            held.append(sock)
            counters.add("noread")
        except OSError as error:
            counters.problem(f"never-reading client: {error}")


def fault_trickle(port, stop, deadline, counters):
    while until(stop, deadline):
        try:
            sock = connect(port)
            for byte in b"trickled one byte at a time\r\n":
                sock.send(bytes([byte]))
                time.sleep(0.005)
            # Drain what the room sent meanwhile, then leave politely.
            read_some(sock, 1, timeout=0.05)
            sock.close()
            counters.add("trickle")
        except OSError as error:
            counters.problem(f"trickling client: {error}")


def fault_bigline(port, stop, deadline, counters):
    big = b"x" * (1024 * 1024)
    while until(stop, deadline):
        try:
            sock = connect(port)
            sock.settimeout(10)
            # Read in the background: the server may write to us while we send.
            received = bytearray()
            done = threading.Event()

            def reader():
                try:
                    while not done.is_set():
                        ready, _, _ = select.select([sock], [], [], 0.1)
                        if ready:
                            chunk = sock.recv(65536)
                            if not chunk:
                                break
                            received.extend(chunk)
                            if b"was longer than" in received:
                                break
                except OSError:
                    pass

            thread = threading.Thread(target=reader, daemon=True)
            thread.start()
            sock.sendall(big)
            sock.sendall(b"\nafter the long line\n")
            thread.join(timeout=10)
            done.set()
            if b"was longer than" not in received:
                counters.problem("1 MiB line: no 'line too long' notice within 10 s")
            sock.close()
            counters.add("bigline")
        except OSError as error:
            counters.problem(f"1 MiB client: {error}")
        time.sleep(0.2)


def fault_cycles(port, count, stop, counters):
    done = 0
    while done < count and not stop.is_set():
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.connect(("127.0.0.1", port))
            if done % 2:
                reset(sock)
            else:
                sock.close()
            done += 1
        except OSError as error:
            counters.problem(f"connect/close cycle: {error}")
            time.sleep(0.01)
    counters.add("cycles", done)


def run_round(server, chatbench, settings, counters):
    """One chatbench fanout with every fault injected meanwhile; returns chatbench's figures."""
    conns, senders, msgs, rate, cycles, noread = settings
    port = server.port
    duration = msgs / rate
    bench = subprocess.Popen(
        [chatbench, "fanout", "--port", str(port), "--conns", str(conns), "--senders", str(senders),
         "--msgs", str(msgs), "--rate", str(rate), "--timeout", str(int(duration + 60))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Start the faults once chatbench's room has settled and the broadcast is under way.
    time.sleep(1.5)
    stop = threading.Event()
    deadline = time.time() + max(3.0, duration - 2.0)
    held = []
    workers = [
        threading.Thread(target=fault_reset, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_reset, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_halfclose, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_noread, args=(port, noread, held, counters)),
        threading.Thread(target=fault_trickle, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_trickle, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_bigline, args=(port, stop, deadline, counters)),
        threading.Thread(target=fault_cycles, args=(port, cycles, stop, counters)),
    ]
    peak_fds = 0
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers) and time.time() < deadline + 30:
        peak_fds = max(peak_fds, server.fds() if server.alive() else 0)
        time.sleep(0.1)
    stop.set()
    for worker in workers:
        worker.join(timeout=15)
    out, err = bench.communicate(timeout=duration + 120)
    result = parse_chatbench(out)
    alive = server.alive()
    for sock in held:
        reset(sock)
    problems = []
    if bench.returncode != 0 or not result:
        problems.append(f"chatbench failed (exit {bench.returncode}): {err.strip()[-500:]}")
    for key in ("lost", "duplicates", "gaps", "echoed", "closed"):
        if result.get(key, "0") != "0":
            problems.append(f"chatbench {key}={result[key]}")
    if result.get("received") != result.get("expected"):
        problems.append(f"chatbench received {result.get('received')} of {result.get('expected')}")
    if not alive:
        problems.append(f"the server died during the run: {server.stderr()}")
    print(f"  round: chatbench exit {bench.returncode}, " + " ".join(
        f"{key}={result.get(key, '?')}" for key in ("expected", "received", "lost", "duplicates", "gaps", "echoed", "closed"))
        + f"; peak open files {peak_fds}", flush=True)
    return result, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="path to the release ChatExample")
    parser.add_argument("--full", action="store_true", help="longer run, more faults")
    parser.add_argument("--rounds", type=int, default=1, help="fanouts with faults, one after another, on one server")
    args = parser.parse_args()

    raise_fd_limit()
    chatbench = build_chatbench(ROOT)
    if args.full:
        settings = (100, 10, 6000, 200, 20000, 50)
    else:
        settings = (50, 5, 1500, 150, 3000, 20)
    conns, senders, msgs, rate, cycles, noread = settings

    server = Server(args.server)
    port = server.port
    baseline_fds = server.fds_at_rest()
    rss = [server.rss_kb()]
    print(f"fault injection: server pid {server.pid} on port {port}, {baseline_fds} open files at rest, "
          f"{args.rounds} round(s) of chatbench fanout {conns} clients, {senders} senders × {msgs} lines at {rate}/s "
          f"(~{msgs / rate:.0f} s each)", flush=True)
    counters = Counters()
    problems = []
    delivered = 0
    after_fds = []
    for _ in range(args.rounds):
        result, round_problems = run_round(server, chatbench, settings, counters)
        problems += round_problems
        delivered += int(result.get("received", 0))
        if not server.alive():
            break
        after_fds.append(server.wait_for_fds(baseline_fds))
        rss.append(server.rss_kb())
        print(f"  round: open files back to {after_fds[-1]} (baseline {baseline_fds}); RSS {rss[-1]} KB", flush=True)

    relays = server.alive() and relay_works(port)
    final_fds = server.wait_for_fds(baseline_fds) if server.alive() else -1
    exit_status = server.stop()

    faults = {name: counters.values.get(name, 0) for name in ("reset", "halfclose", "noread", "trickle", "bigline", "cycles")}
    print("faults injected: " + ", ".join(f"{name}={count}" for name, count in faults.items())
          + f" (total {sum(faults.values())})")
    print(f"deliveries checked by chatbench: {delivered}; server relays afterwards: {relays}; open files {baseline_fds} "
          f"at rest, {final_fds} at the end; RSS by round (KB): {rss}; exit status on SIGTERM: {exit_status}")

    problems += counters.problems
    if not relays:
        problems.append("the server no longer relays after the faults")
    if final_fds != baseline_fds or any(count != baseline_fds for count in after_fds):
        problems.append(f"open files did not return to the baseline {baseline_fds}: {after_fds} then {final_fds}")
    if exit_status != 0:
        problems.append(f"the server did not exit 0 on SIGTERM: {exit_status}")
    for fault in ("reset", "halfclose", "trickle", "bigline"):
        if faults[fault] == 0:
            problems.append(f"no {fault} fault was injected")
    if faults["noread"] != noread * args.rounds or faults["cycles"] != cycles * args.rounds:
        problems.append(f"not every never-reading client or cycle ran: {faults}")
    if problems:
        for problem in problems[:20]:
            print(f"FAIL: {problem}", file=sys.stderr)
        sys.exit(1)
    print("fault injection passed: nothing lost, server alive, open files back to the baseline")


if __name__ == "__main__":
    main()
