#!/usr/bin/env python3
"""WebSocket participants in the chat room, with Python's websockets as the peer: they relay to
and from an nc-style TCP client, and the room's defences apply to them (line cap, control
characters, names, flood limit, idle timeout); a binary message is refused with close code 1003;
/metrics counts them. A browser's session holds no task while it waits, so each check also shows
that its next message wakes it with its state intact.

Every wait has a deadline; traffic stays on 127.0.0.1.
Usage: chat_websocket_test.py PATH/TO/ChatExample
"""
import asyncio
import socket
import subprocess
import sys
import time
import urllib.request

import websockets

DEADLINE = 10.0
results = []


def check(name, condition, detail=""):
    results.append(condition)
    print(f"{'ok  ' if condition else 'FAIL'} {name} {'' if condition else detail}")


async def expect(ws, text):
    """The next message containing `text`, skipping others."""
    async def wait():
        while True:
            message = await ws.recv()
            if text in message:
                return message
    return await asyncio.wait_for(wait(), DEADLINE)


def tcp_expect(sock, buffer, text):
    deadline = time.monotonic() + DEADLINE
    while True:
        while b"\n" in buffer[0]:
            line, buffer[0] = buffer[0].split(b"\n", 1)
            if text in line.decode(errors="replace"):
                return line.decode(errors="replace")
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("TCP connection closed")
        buffer[0] += chunk


async def main(binary):
    server = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--max-line-length", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(server.stdout.readline().split()[-1])
        http = int(server.stdout.readline().split()[-1])
        url = f"ws://127.0.0.1:{http}/chat"
        tcp = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        buffer = [b""]
        tcp_name = tcp_expect(tcp, buffer, "Welcome").split("You are ")[1].split(".")[0]
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            a_name = (await expect(a, "Welcome")).split("You are ")[1].split(".")[0]
            await expect(b, "Welcome")
            await a.send("hello from a browser")
            check("a WebSocket line reaches the TCP client",
                  f"{a_name}: hello from a browser" in tcp_expect(tcp, buffer, "hello from a browser"))
            tcp.sendall(b"hello from nc\n")
            check("a TCP line reaches WebSocket clients as one text message",
                  await expect(b, "hello from nc") == f"{tcp_name}: hello from nc")
            await a.send("x" * 200)
            check("a WebSocket message over the line cap is refused",
                  "longer than 100 bytes" in await expect(a, "longer than"))
            await a.send("bell\x07and\x1b[31mescape")
            relayed = await expect(b, "bell")
            check("control characters are stripped", "\x07" not in relayed and "\x1b" not in relayed, repr(relayed))
            await a.send(f"/nick {tcp_name}")
            check("a WebSocket participant cannot take a TCP participant's name", "taken" in await expect(a, "taken"))
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=DEADLINE) as response:
                metrics = response.read().decode()
            check("/metrics counts 2 WebSocket and 1 TCP participants",
                  'chat_participants{kind="websocket"} 2' in metrics and 'chat_participants{kind="tcp"} 1' in metrics)
            for n in range(30):
                await a.send(f"flood {n}")
            check("a WebSocket participant over the flood limit is told once", "too fast" in await expect(a, "too fast"))
            await b.send(b"\x00\x01binary")
            code = None
            try:
                await asyncio.wait_for(expect(b, "never"), DEADLINE)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            check("a binary message is refused with close code 1003", code == 1003, f"(code {code})")
            check("the others see the refused participant leave", "left" in await expect(a, "left"))
        tcp.close()
    finally:
        server.terminate()
        code = server.wait(timeout=DEADLINE)
        check("server exits 0 on SIGTERM", code == 0, f"(exit {code})")


async def idle_timeout(binary):
    """A browser that sends nothing for --idle-timeout is told and disconnected (its session
    then waits in its task, the timeout being a wait of the task's)."""
    server = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--idle-timeout", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdout.readline()
        http = int(server.stdout.readline().split()[-1])
        async with websockets.connect(f"ws://127.0.0.1:{http}/chat") as ws:
            await expect(ws, "Welcome")
            notice = await expect(ws, "sent nothing")
            code = None
            try:
                await asyncio.wait_for(expect(ws, "never"), DEADLINE)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            check("an idle WebSocket participant is told and closed (1000)", "sent nothing" in notice and code == 1000,
                  f"({notice!r}, code {code})")
    finally:
        server.terminate()
        server.wait(timeout=DEADLINE)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: chat_websocket_test.py PATH/TO/ChatExample")
    started = time.monotonic()
    asyncio.run(main(sys.argv[1]))
    asyncio.run(idle_timeout(sys.argv[1]))
    failed = results.count(False)
    print(f"chat_websocket_test: {len(results) - failed} passed, {failed} failed in {time.monotonic() - started:.1f} s")
    sys.exit(1 if failed else 0)
