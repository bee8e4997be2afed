#!/usr/bin/env python3
"""Drives WebSocketEchoExample with peers we did not write: Python's `websockets` client
(echo, fragmentation, ping, close codes, compression on and off, many clients at once) and
raw sockets that break the protocol (each must get the right close code, then the TCP close)
or the handshake (426, 400).

    python3 scripts/ws_interop_test.py Examples/.build/release/WebSocketEchoExample
"""
import asyncio
import base64
import os
import socket
import struct
import subprocess
import sys
import time

from websockets.asyncio.client import connect

BINARY = sys.argv[1] if len(sys.argv) > 1 else "Examples/.build/release/WebSocketEchoExample"
results = []


def start(*arguments):
    process = subprocess.Popen([BINARY, "--port", "0", *arguments], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, int(line.rsplit(":", 1)[1])


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(f"{'ok  ' if condition else 'FAIL'} {name}{'' if condition else ': ' + str(detail)}", flush=True)


def handshake(port, version="13", key=None):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = key or base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, head.decode(errors="replace")


def frame(opcode, payload, fin=True, mask=True):
    header = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        header += bytes([bit | length])
    elif length < 65536:
        header += bytes([bit | 126]) + struct.pack("!H", length)
    else:
        header += bytes([bit | 127]) + struct.pack("!Q", length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_close(sock):
    """Reads frames until a close frame; returns its code, then checks that EOF follows."""
    data = b""
    deadline = time.time() + 5
    while time.time() < deadline:
        while len(data) >= 2:
            length = data[1] & 0x7F
            start = 2 + (2 if length == 126 else 8 if length == 127 else 0)
            if length >= 126:
                if len(data) < start:
                    break
                length = int.from_bytes(data[2:start], "big")
            if len(data) < start + length:
                break
            opcode, payload = data[0] & 0x0F, data[start:start + length]
            data = data[start + length:]
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                sock.sendall(frame(8, payload[:2]))
                eof = sock.recv(1) == b""
                return code, eof
        chunk = sock.recv(65536)
        if not chunk:
            return None, True
        data += chunk
    return None, False


async def client_checks(port):
    async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
        check("compression negotiated by default", "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or ""))
        await ws.send("héllo 👋")
        check("text echo (compressed)", await ws.recv() == "héllo 👋")
        big = os.urandom(1 << 20)
        await ws.send(big)
        check("1 MiB binary echo", await ws.recv() == big)
        await ws.send(["frag", "ment", "ed ✓"])
        check("fragmented message echo", await ws.recv() == "fragmented ✓")
        pong = await ws.ping(b"ping-payload")
        await asyncio.wait_for(pong, 5)
        check("ping answered with pong", True)
        await ws.close(4000, "bye")
        check("close code 4000 echoed", ws.close_code == 4000, ws.close_code)
    async with connect(f"ws://127.0.0.1:{port}/", compression=None) as ws:
        check("no compression when not offered", ws.response.headers.get("Sec-WebSocket-Extensions") is None)
        await ws.send(b"\x00" * 100000)
        check("binary echo (uncompressed)", await ws.recv() == b"\x00" * 100000)

    async def one(index):
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            for round in range(20):
                await ws.send(f"client {index} round {round}")
                if await ws.recv() != f"client {index} round {round}":
                    return False
        return True
    outcomes = await asyncio.gather(*(one(index) for index in range(50)))
    check("50 concurrent clients x 20 messages", all(outcomes))


def raw_checks(port):
    sock, head = handshake(port, version="8")
    check("version 8 gets 426 with Sec-WebSocket-Version: 13", head.startswith("HTTP/1.1 426") and "Sec-WebSocket-Version: 13" in head, head)
    sock.close()
    sock, head = handshake(port, key="c2hvcnQ=")
    check("a short key gets 400", head.startswith("HTTP/1.1 400"), head)
    sock.close()
    cases = [
        ("unmasked client frame", frame(1, b"hi", mask=False), 1002),
        ("invalid UTF-8 text", frame(1, b"\xce\xba\xed\xa0\x80"), 1007),
        ("invalid UTF-8 mid-fragment", frame(1, b"ok", fin=False) + frame(0, b"\xff", fin=False), 1007),
        ("reserved opcode", frame(3, b""), 1002),
        ("close code 1005 on the wire", frame(8, struct.pack("!H", 1005)), 1002),
        ("control frame of 126 bytes", frame(9, b"x" * 126), 1002),
        ("continuation without a message", frame(0, b"x"), 1002),
        ("message over --max-message-size", frame(2, b"x" * 70000), 1009),
        ("fragments over --max-message-size", frame(2, b"x" * 40000, fin=False) + frame(0, b"x" * 40000), 1009),
    ]
    for name, data, expected in cases:
        sock, head = handshake(port)
        sock.sendall(data)
        code, eof = read_close(sock)
        check(f"{name} -> close {expected}, then TCP close", code == expected and eof, (code, eof))
        sock.close()


def keepalive_checks():
    process, port = start("--ping-interval", "0.2")
    try:
        sock, head = handshake(port)
        started = time.time()
        # A peer that never answers pings is closed with 1011 after two intervals.
        data = b""
        while time.time() - started < 5:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.time() - started
        check("keep-alive pings sent", data[:1] == b"\x89", data[:4])
        check("an unanswered ping closes with 1011 in under 2 s", b"\x88" in data and b"\x03\xf3" in data and elapsed < 2, (data[-8:], elapsed))

        async def answers():
            async with connect(f"ws://127.0.0.1:{port}/") as ws:
                await asyncio.sleep(1)
                await ws.send("still here")
                return await ws.recv()
        check("a peer that answers pings stays connected", asyncio.run(answers()) == "still here")
    finally:
        process.terminate()
        process.wait(5)


def main():
    process, port = start("--max-message-size", "65536", "--close-timeout", "2")
    try:
        raw_checks(port)
    finally:
        process.terminate()
        process.wait(5)
    process, port = start()
    try:
        asyncio.run(asyncio.wait_for(client_checks(port), 60))
    finally:
        process.terminate()
        check("the server exits on SIGTERM", process.wait(5) == 0)
    keepalive_checks()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
