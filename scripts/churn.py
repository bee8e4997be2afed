#!/usr/bin/env python3
"""Churn: connect/disconnect cycles against the release ChatExample --plain, in batches that
stay within the 20,000 open-file limit, checking after every batch that the server's open
files are back to where they started and that its memory stays flat.

Each batch opens N connections at once (non-blocking), waits until the server has accepted
them all (its open-file count rose by N), then closes them — alternately with a FIN and an
RST — and waits for the count to come back to the baseline. RSS is read after each batch.

The RSS bound: after the first two batches (the warm-up: allocator arenas and the server's
arrays reach their working size), RSS may not grow by more than --rss-slack-mb (default
16 MiB) in all the remaining batches together, and never again exceed the warm-up's peak by
more than that. A leak of even 200 bytes per connection would show as 20 MB over 100,000.

    python3 scripts/churn.py .build-rel/release/ChatExample                       # 100,000 cycles
    python3 scripts/churn.py .build-rel/release/ChatExample --cycles 10000 --batch 2000
"""

import argparse
import errno
import os
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_support import Server, fail, raise_fd_limit, relay_works  # noqa: E402

LINGER_RST = struct.pack("ii", 1, 0)


def open_batch(port, count, timeout=30.0):
    """Opens `count` connections at once; returns them once every handshake completed."""
    selector = selectors.DefaultSelector()
    pending = 0
    sockets = []
    for index in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        # Spread the sources over 127.0.0.2-.201 so 100,000 cycles never run short of ports.
        sock.bind((f"127.0.0.{2 + index % 200}", 0))
        result = sock.connect_ex(("127.0.0.1", port))
        if result not in (0, errno.EINPROGRESS):
            fail(f"connect: {os.strerror(result)}")
        sockets.append(sock)
        selector.register(sock, selectors.EVENT_WRITE)
        pending += 1
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        for key, _ in selector.select(timeout=1.0):
            error = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                fail(f"connect: {os.strerror(error)}")
            selector.unregister(key.fileobj)
            pending -= 1
    selector.close()
    if pending:
        fail(f"{pending} handshakes did not complete within {timeout} s")
    return sockets


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="path to the release ChatExample")
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--rss-slack-mb", type=float, default=16.0)
    args = parser.parse_args()

    limit = raise_fd_limit()
    if args.batch + 100 > limit:
        fail(f"a batch of {args.batch} does not fit in the open-file limit {limit}")
    server = Server(args.server)
    baseline = server.fds_at_rest()
    rss = [server.rss_kb()]
    print(f"churn: server pid {server.pid} port {server.port}, {baseline} open files at rest, RSS {rss[0]} KB; "
          f"{args.cycles} cycles in batches of {args.batch}", flush=True)
    started = time.time()
    cpu_before = server.cpu_seconds()
    done = 0
    batch_number = 0
    while done < args.cycles:
        count = min(args.batch, args.cycles - done)
        sockets = open_batch(server.port, count)
        accepted = server.fds()
        deadline = time.time() + 30
        while accepted < baseline + count and time.time() < deadline:
            time.sleep(0.02)
            accepted = server.fds()
        if accepted < baseline + count:
            fail(f"batch {batch_number}: the server accepted {accepted - baseline} of {count} within 30 s")
        for index, sock in enumerate(sockets):
            if index % 2:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
            sock.close()
        after = server.wait_for_fds(baseline, timeout=30)
        if after != baseline:
            fail(f"batch {batch_number}: open files {after} after closing, baseline {baseline}")
        if not server.alive():
            fail(f"the server died: {server.stderr()}")
        done += count
        batch_number += 1
        rss.append(server.rss_kb())
        print(f"  batch {batch_number:3}: {done:7} cycles, peak {accepted} open files, back to {after}, "
              f"RSS {rss[-1]} KB", flush=True)

    elapsed = time.time() - started
    cpu = server.cpu_seconds() - cpu_before
    relays = relay_works(server.port)
    final_fds = server.wait_for_fds(baseline)
    status = server.stop()
    warm = max(rss[: min(3, len(rss))])
    growth_kb = rss[-1] - warm
    peak_after_warmup = max(rss[3:], default=rss[-1])
    print(f"churn: {done} cycles in {elapsed:.1f} s ({done / elapsed:.0f}/s, server CPU {cpu:.1f} s); open files "
          f"{baseline} → {final_fds}; RSS at rest {rss[0]} KB, after warm-up {warm} KB, final {rss[-1]} KB "
          f"(growth {growth_kb} KB, bound {args.rss_slack_mb:.0f} MiB); relays afterwards: {relays}; exit {status}")
    problems = []
    if final_fds != baseline:
        problems.append(f"open files {final_fds} != baseline {baseline}")
    if growth_kb > args.rss_slack_mb * 1024 or peak_after_warmup - warm > args.rss_slack_mb * 1024:
        problems.append(f"RSS grew beyond the bound: {rss}")
    if not relays:
        problems.append("the server no longer relays")
    if status != 0:
        problems.append(f"exit status {status} on SIGTERM")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("churn passed: open files back to the baseline after every batch, RSS flat")


if __name__ == "__main__":
    main()
