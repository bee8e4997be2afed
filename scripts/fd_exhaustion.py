#!/usr/bin/env python3
"""Resource limits: the release ChatExample --plain runs out of file descriptors (EMFILE) and
must not spin or crash, and must serve again once descriptors free up.

The server raises its soft RLIMIT_NOFILE to the hard limit when its first loop starts, so
lowering the limit before exec would be undone; instead the soft limit of the *running* child
is lowered with prlimit(2) to its current open-file count plus a small headroom. Then more
clients connect than fit:

  1. the server stays alive and does not spin: its CPU time over the 2 s after the flood is
     small (a server retrying accept in a loop would burn a whole core);
  2. the clients that fit are served (a line from one reaches another);
  3. the clients that do not fit wait in the listen backlog: the server closes none of them;
  4. the server's log names the failure (EMFILE, "too many open files"): TCPListener.accept()
     throws it and ChatServer logs it with log.error, which --plain shows;
  5. once the clients go away, its open files return to the baseline and new clients are
     served again, still under the lowered limit; this is repeated for several rounds.

The baseline is counted after a first client came and went (Server.fds_at_rest).

    python3 scripts/fd_exhaustion.py .build-rel/release/ChatExample
"""

import argparse
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_support import Server, fail, raise_fd_limit, relay_works  # noqa: E402

HEADROOM = 24
FLOOD = 80


def connect_all(port, count):
    clients = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
            clients.append(sock)
        except OSError:
            sock.close()
    return clients


def closed_by_server(sock, timeout):
    """True if the server closed (EOF or reset) this connection within `timeout`."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (socket.timeout, OSError):
        return False


def limit_known_at_start(binary):
    """The usual case: the limit is in force before the server starts (hard = soft = 64), so
    its participant cap (the limit less 32) refuses the excess with a logged notice and a
    'room is full' line, before accept() can fail at all."""
    limit = 64
    problems = []

    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    server = Server(binary, extra_args=["--log-level", "notice"], preexec_fn=lower_limit)
    baseline = server.fds_at_rest()
    cpu_before = server.cpu_seconds()
    clients = connect_all(server.port, FLOOD)
    time.sleep(2.0)
    cpu = server.cpu_seconds() - cpu_before
    peak = server.fds()
    told_full = closed_silently = 0
    for sock in clients:
        sock.settimeout(0.05)
        try:
            data = sock.recv(65536)
            if b"room is full" in data:
                told_full += 1
            elif not data:
                closed_silently += 1
        except ConnectionResetError:
            closed_silently += 1
        except OSError:
            pass
        sock.close()
    after = server.wait_for_fds(baseline)
    recovered = server.alive() and relay_works(server.port)
    log = server.stderr(tail=None)
    status = server.stop()
    refusals_logged = log.count("the room is full")
    print(f"  limit {limit} set before start: {len(clients)} connected, peak {peak} open files, {told_full} told "
          f"'room is full', {closed_silently} closed without it, {refusals_logged} refusals logged; CPU {cpu:.2f} s in 2 s; open files back to {after}; "
          f"serves new clients: {recovered}; exit {status}", flush=True)
    if cpu > 0.5:
        problems.append(f"limit at start: {cpu:.2f} s of CPU in 2 s")
    if refusals_logged == 0 or told_full == 0:
        problems.append("limit at start: the excess clients were not refused with a notice and a log line")
    if after != baseline or not recovered or status != 0:
        problems.append(f"limit at start: open files {after} (baseline {baseline}), serves: {recovered}, exit {status}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="path to the release ChatExample")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raise_fd_limit()

    # A participant cap far above the descriptor limit, so the limit is what bites.
    server = Server(args.server, extra_args=["--max-participants", "100000"])
    baseline = server.fds_at_rest()
    _, hard = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
    soft = baseline + HEADROOM
    resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (soft, hard))
    print(f"fd exhaustion: server pid {server.pid} port {server.port}: {baseline} open files, soft limit lowered "
          f"to {soft}; {FLOOD} clients per round", flush=True)

    problems = []
    for round_number in range(1, args.rounds + 1):
        cpu_before = server.cpu_seconds()
        clients = connect_all(server.port, FLOOD)
        time.sleep(2.0)
        cpu = server.cpu_seconds() - cpu_before
        peak = server.fds()
        # Which clients did the server close? (Those it holds stay open: check them briefly.)
        kept, dropped = [], 0
        for sock in clients:
            if closed_by_server(sock, 0.05):
                dropped += 1
                sock.close()
            else:
                kept.append(sock)
        served = False
        if len(kept) >= 2:
            kept[0].sendall(b"still serving?\n")
            kept[1].settimeout(5)
            got = b""
            try:
                while b"still serving?\n" not in got:
                    chunk = kept[1].recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except OSError:
                pass
            served = b"still serving?\n" in got
        for sock in kept:
            sock.close()
        after = server.wait_for_fds(baseline)
        recovered = server.alive() and relay_works(server.port)
        after = server.wait_for_fds(baseline)
        print(f"  round {round_number}: {len(clients)} connected, server at {peak}/{soft} open files, "
              f"{dropped} closed by the server, {len(kept)} held; CPU {cpu:.2f} s in the 2 s after the flood; "
              f"held clients served: {served}; open files back to {after}; serves new clients: {recovered}", flush=True)
        if not server.alive():
            problems.append(f"round {round_number}: the server died: {server.stderr()}")
            break
        if cpu > 0.5:
            problems.append(f"round {round_number}: {cpu:.2f} s of CPU in 2 s: the server spins on EMFILE")
        if peak > soft:
            problems.append(f"round {round_number}: {peak} open files over the limit {soft}?")
        if peak < soft - 2:
            problems.append(f"round {round_number}: the limit was never reached ({peak} of {soft}): the test tests nothing")
        if not served:
            problems.append(f"round {round_number}: the clients that fit were not served")
        if dropped:
            problems.append(f"round {round_number}: {dropped} clients closed by the server instead of waiting in the backlog")
        if after != baseline:
            problems.append(f"round {round_number}: open files {after}, baseline {baseline}")
        if not recovered:
            problems.append(f"round {round_number}: no longer serves new clients after descriptors freed up")

    status = server.stop()
    log = server.stderr(tail=None)
    failures = [line for line in log.splitlines() if "EMFILE" in line or "too many open files" in line]
    print(f"fd exhaustion: {len(failures)} log line(s) name the accept failure; the first: "
          f"{failures[0].strip() if failures else None!r}; exit status on SIGTERM: {status}")
    if not failures:
        problems.append("the server's log does not mention the accept failure (EMFILE, too many open files)")
    if status != 0:
        problems.append(f"exit status {status} on SIGTERM")
    problems += limit_known_at_start(args.server)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("fd exhaustion passed: EMFILE logged, no spin, no crash, nobody dropped, served again once descriptors freed up")


if __name__ == "__main__":
    main()
