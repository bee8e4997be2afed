#!/usr/bin/env python3
"""Where keep-alive requests wait: in the server, or in the load generator.

Traces the read, write and epoll_wait system calls of a running HTTP server and of `wrk` (one
thread, CONNS connections, on core 1) for a fraction of a second with `perf record`, matches
them per descriptor, and prints:
- the server's time from reading a request to writing its response;
- wrk's time from reading a response to writing the connection's next request (outside its
  latency window);
- the events each `epoll_wait` returned, for both.

    python3 scripts/http_wait_trace.py PORT          # a server already listening on 127.0.0.1:PORT

Needs perf and tracefs (mounted here if missing; root). perf slows both processes: compare
servers with each other, in the same conditions, not with wrk's own figures. Loopback only.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

EVENTS = ",".join(f"syscalls:{e}" for e in (
    "sys_enter_epoll_wait", "sys_exit_epoll_wait", "sys_enter_read", "sys_enter_recvfrom",
    "sys_enter_writev", "sys_enter_write"))


def listener_pid(port):
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    match = re.search(r"pid=(\d+)", out)
    if not match:
        sys.exit(f"http_wait_trace: nothing listens on port {port}")
    return int(match.group(1))


def percentile(values, fraction):
    return sorted(values)[int(len(values) * fraction)] * 1e6 if values else 0.0


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    port = int(sys.argv[1])
    conns = os.environ.get("CONNS", "100")
    if not os.path.exists("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=False)
    server = listener_pid(port)
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "perf.data")
        wrk = subprocess.Popen(["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", "-d3s", f"http://127.0.0.1:{port}/"],
                               stdout=subprocess.DEVNULL)
        time.sleep(1.0)  # past wrk's connecting: the trace sees the steady state
        subprocess.run(["perf", "record", "-q", "-o", data, "-e", EVENTS, "-p", f"{server},{wrk.pid}", "--", "sleep", "0.3"],
                       check=True, stderr=subprocess.DEVNULL)
        wrk.wait()
        trace = subprocess.run(["perf", "script", "-i", data, "-F", "pid,time,event,trace"],
                               capture_output=True, text=True).stdout
    waits = {server: [], wrk.pid: []}
    server_read = {}
    server_answer, wrk_idle = [], []
    wrk_last_read = {}
    for line in trace.splitlines():
        match = re.match(r"\s*(\d+)\s+([\d.]+):\s+syscalls:(\S+): (.*)", line)
        if not match:
            continue
        pid, at, event, rest = int(match.group(1)), float(match.group(2)), match.group(3), match.group(4)
        if event == "sys_exit_epoll_wait":
            waits.setdefault(pid, []).append(int(rest, 16))
            continue
        fd_match = re.search(r"fd: (0x[0-9a-f]+)", rest)
        if not fd_match:
            continue
        fd = int(fd_match.group(1), 16)
        is_read = event in ("sys_enter_read", "sys_enter_recvfrom")
        if pid == server:
            if is_read:
                server_read.setdefault(fd, at)
            elif fd in server_read:
                server_answer.append(at - server_read.pop(fd))
        elif is_read:
            wrk_last_read[fd] = at
        elif fd in wrk_last_read:
            wrk_idle.append(at - wrk_last_read.pop(fd))
    if not server_answer or not waits[server]:
        sys.exit("http_wait_trace: no requests traced (is the server answering `GET /`?)")
    print(f"http_wait_trace port={port} requests={len(server_answer)}"
          f" server_read_to_write_us_p50={percentile(server_answer, .5):.0f} p90={percentile(server_answer, .9):.0f}"
          f" wrk_response_to_next_request_us_p50={percentile(wrk_idle, .5):.0f}"
          f" events_per_wait_wrk={statistics.mean(waits[wrk.pid] or [0]):.1f}"
          f" events_per_wait_server={statistics.mean(waits[server]):.1f}")


if __name__ == "__main__":
    main()
