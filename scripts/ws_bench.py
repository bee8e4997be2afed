#!/usr/bin/env python3
"""Measures WebSocketEchoExample's server CPU per echoed message, with Python's `websockets` as
the load (the client is the bottleneck, so throughput here is the client's; the server's CPU time
per message, read from /proc, is the figure about UVLoop). Bounded: each run sends a fixed count.

    python3 scripts/ws_bench.py Examples/.build/release/WebSocketEchoExample [--messages 20000]
"""
import asyncio
import os
import subprocess
import sys
import time

from websockets.asyncio.client import connect

BINARY = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "Examples/.build/release/WebSocketEchoExample"
MESSAGES = int(sys.argv[sys.argv.index("--messages") + 1]) if "--messages" in sys.argv else 20000
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def run(port, size, compression, clients=10, window=16):
    payload = ("x" * size) if size < 1000 else os.urandom(size // 2).hex()
    per_client = MESSAGES // clients

    async def one():
        async with connect(f"ws://127.0.0.1:{port}/", compression=compression, max_size=None) as ws:
            sent = received = 0
            while received < per_client:
                while sent < per_client and sent - received < window:
                    await ws.send(payload)
                    sent += 1
                assert await ws.recv() == payload
                received += 1
    await asyncio.gather(*(one() for _ in range(clients)))
    return per_client * clients


def main():
    process = subprocess.Popen([BINARY, "--port", "0"], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline().rsplit(":", 1)[1])
    try:
        print(f"{'message':>10} {'compression':>12} {'messages':>9} {'wall s':>7} {'msg/s':>8} {'server CPU µs/msg':>18}")
        for size in (100, 16 * 1024):
            for compression in (None, "deflate"):
                before, started = cpu_seconds(process.pid), time.time()
                count = asyncio.run(run(port, size, compression))
                wall, cpu = time.time() - started, cpu_seconds(process.pid) - before
                print(f"{size:>10} {str(compression):>12} {count:>9} {wall:>7.2f} {count / wall:>8.0f} {cpu / count * 1e6:>18.1f}")
    finally:
        process.terminate()
        process.wait(5)


main()
