#!/usr/bin/env python3
"""What an idle TLS connection keeps on a server's heap, by block size.

    python3 scripts/tls_idle_breakdown.py TOOLS_DIR --conns 2000 -- SERVER COMMAND... --port PORT

Starts the server with malloc_histogram.so (Benchmarks/Baseline) preloaded, warms it up with a
few TLS connections, snapshots its live heap blocks, opens CONNS idle TLS connections with
`chatbench hold --tls` (each finishes its handshake, then stays idle), snapshots again while they
are held, and prints the difference per connection by block size, with the process's RSS growth.
TOOLS_DIR holds chatbench and malloc_histogram.so (make -C Benchmarks/Baseline and
Benchmarks/chatbench with OUT=TOOLS_DIR). The server must listen on 127.0.0.1:PORT, the value
after --port in its command. Bounded: every wait has a deadline; the server is killed at the end.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time


def listening(port):
    # ss filters in the kernel: /proc/net/tcp lists every TIME_WAIT socket of earlier runs.
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
    return out.strip() != ""


def snapshots(path):
    shots, cur = [], None
    for line in open(path):
        if line.startswith("snapshot"):
            cur = {}
            shots.append(cur)
        else:
            size, blocks, _ = map(int, line.split())
            cur[size] = blocks
    return shots


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("tools")
    parser.add_argument("--conns", type=int, default=2000)
    parser.add_argument("--tsv", help="append 'name bytes blocks rss' to this file")
    parser.add_argument("--name", default="server")
    parser.add_argument("--no-tls", action="store_true", help="plain TCP connections, for comparison")
    args = parser.parse_args(sys.argv[1:split])
    command = sys.argv[split + 1:]
    port = int(command[command.index("--port") + 1])
    chatbench = os.path.join(args.tools, "chatbench")
    histogram = tempfile.NamedTemporaryFile(prefix="tls-histogram-", delete=False).name
    env = dict(os.environ, LD_PRELOAD=os.path.join(args.tools, "malloc_histogram.so"), MALLOC_HISTOGRAM_FILE=histogram)
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port), 30, "the server to listen")
        bench = [chatbench, "hold"] + ([] if args.no_tls else ["--tls"]) + ["--host", "127.0.0.1", "--port", str(port)]
        subprocess.run(bench + ["--conns", "20", "--hold-s", "1"], stdout=subprocess.DEVNULL, timeout=120, check=True)

        def snapshot(n):
            server.send_signal(signal.SIGUSR2)
            # The dump happens at the server's next allocation: a connection makes one.
            subprocess.run(bench + ["--conns", "1", "--hold-s", "0"], stdout=subprocess.DEVNULL, timeout=60)
            wait_for(lambda: len(snapshots(histogram)) >= n, 30, f"snapshot {n}")

        time.sleep(0.5)
        snapshot(1)
        rss_before = rss_kb(server.pid)
        fds = len(os.listdir(f"/proc/{server.pid}/fd"))
        hold = subprocess.Popen(bench + ["--conns", str(args.conns), "--hold-s", "30", "--pid", str(server.pid)],
                                stdout=subprocess.PIPE, text=True)
        wait_for(lambda: len(os.listdir(f"/proc/{server.pid}/fd")) >= fds + args.conns - 2, 300, "the connections")
        # Until the heap stops changing: the server finishes its side of the last handshakes
        # (reading the client's Finished) after the client has finished.
        def heap_bytes(shot):
            return sum(size * blocks for size, blocks in shot.items())

        count = 1
        while True:
            time.sleep(0.5)
            count += 1
            snapshot(count)
            shots = snapshots(histogram)
            if count > 2 and abs(heap_bytes(shots[-1]) - heap_bytes(shots[-2])) < 0.002 * heap_bytes(shots[-1]):
                break
            if count > 40:
                sys.exit("the heap did not settle")
        rss_after = rss_kb(server.pid)
        hold.kill()
        hold.wait()
        before, after = shots[0], shots[-1]
        rows = []
        for size in sorted(set(before) | set(after)):
            d = (after.get(size, 0) - before.get(size, 0)) / args.conns
            if abs(d) >= 0.05:
                rows.append((size, d))
        total = sum(size * d for size, d in rows)
        blocks = sum(d for _, d in rows)
        print(f"conns={args.conns} rss_kb_per_conn={(rss_after - rss_before) / args.conns:.2f} "
              f"heap_bytes_per_conn={total:.0f} blocks_per_conn={blocks:.1f} (+8 B glibc header each)")
        if args.tsv:
            with open(args.tsv, "a") as out:
                out.write(f"{args.name} {total:.0f} {blocks:.1f} {(rss_after - rss_before) / args.conns:.2f}\n")
        print("| block size (usable B) | blocks per conn | bytes per conn |")
        print("|---:|---:|---:|")
        for size, d in sorted(rows, key=lambda r: -r[0] * r[1]):
            print(f"| {size} | {d:.2f} | {size * d:.0f} |")
    finally:
        server.kill()
        server.wait()
        os.unlink(histogram)


if __name__ == "__main__":
    main()
