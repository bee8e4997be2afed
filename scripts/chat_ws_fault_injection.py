#!/usr/bin/env python3
"""Fault injection against the WebSocket chat (`ChatExample --plain --http-port P --ws-compression`,
the room at /chat) while chatbench's well-behaved WebSocket clients broadcast to each other.

Misbehaving browsers come and go meanwhile, each checked for the answer it must get:
  vanish     upgrade, send half a frame, then vanish (RST, or FIN): nothing to answer
  garbage    bytes that are no frame (reserved opcode and RSV bits): close 1002, then the server's FIN
  unmasked   an unmasked client frame (RFC 6455 §5.1): close 1002
  badutf8    a text message that is not UTF-8: close 1007
  bigping    a ping with 200 bytes of payload (control frames carry at most 125): close 1002
  rsv1       a compressed-looking frame on a connection that did not agree compression: close 1002
  huge       a text message in 16 KiB fragments, past the message bound: close 1009 before it ends
  bomb       permessage-deflate agreed, then 64 MiB of zeros deflated to ~64 KiB: close 1009
  trickle    a text frame one byte at a time, then a close: the server answers the close (1000)
  noread     upgrade with a 4 KiB receive buffer and never read, held to the end, then RST
Pass: chatbench reports nothing lost, duplicated, reordered or echoed and none of its clients
closed; every fault got its answer; the server still relays afterwards; its open files return to
the baseline; it exits 0 on SIGTERM. Traffic stays on 127.0.0.1.

    python3 scripts/chat_ws_fault_injection.py Examples/.build/release/ChatExample       # ~20 s
"""

import argparse
import base64
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reliability_support import (  # noqa: E402
    Server, build_chatbench, parse_chatbench, raise_fd_limit, relay_works, reset)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_MESSAGE = 256 * 1024  # the chat's bound in plain mode: 4 x the 64 KiB line cap


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.problems = []

    def add(self, name):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + 1

    def problem(self, text):
        with self.lock:
            self.problems.append(text)


def masked(data, key):
    """`data` XOR the 4-byte `key` repeated (RFC 6455 §5.3), fast for large payloads."""
    if not data:
        return b""
    stream = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def frame(opcode, payload, fin=True, mask=True, rsv1=False):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        header = struct.pack("!BB", first, bit | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, bit | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + masked(payload, key)


def upgrade(port, extensions=None, rcvbuf=None):
    """A client socket after a 101; returns (socket, response head, bytes read past it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
    if extensions:
        request += f"Sec-WebSocket-Extensions: {extensions}\r\n"
    sock.sendall((request + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError("the server closed during the upgrade")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise OSError(f"upgrade refused: {head[:80]!r}")
    return sock, head.decode(errors="replace"), rest


def take_frames(data):
    """Removes the whole server frames at the start of `data`; returns [(opcode, payload)]."""
    frames = []
    while len(data) >= 2:
        opcode, length = data[0] & 0x0F, data[1] & 0x7F
        offset = 2
        if length == 126:
            if len(data) < 4:
                break
            length, offset = struct.unpack("!H", data[2:4])[0], 4
        elif length == 127:
            if len(data) < 10:
                break
            length, offset = struct.unpack("!Q", data[2:10])[0], 10
        if len(data) < offset + length:
            break
        frames.append((opcode, bytes(data[offset:offset + length])))
        del data[:offset + length]
    return frames


def code_of(frames):
    """The status code of the first close frame in `frames`, or None."""
    for opcode, payload in frames:
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


def close_code(sock, buffered=b"", timeout=10.0):
    """Reads server frames until its close frame; returns (code or None, whether EOF followed)."""
    data = bytearray(buffered)
    code = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = code_of(take_frames(data))
        code = code if code is not None else found
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            return code, False
        if not chunk:
            return code, True
        data += chunk
    return code, False


def expect_close(counters, name, sock, rest, wanted):
    code, eof = close_code(sock, rest)
    if code != wanted or not eof:
        counters.problem(f"{name}: wanted close {wanted} and the server's FIN, got close {code}, FIN {eof}")
    else:
        counters.add(name)
    sock.close()


def fault_vanish(port, counters, rst):
    sock, _, _ = upgrade(port)
    sock.sendall(frame(0x1, b"v" * 1000)[:300])
    if rst:
        reset(sock)
    else:
        sock.close()
    counters.add("vanish")


def fault_protocol(port, counters, name):
    sock, _, rest = upgrade(port)
    wanted = 1002
    if name == "garbage":
        sock.sendall(b"\xff" * 64)
    elif name == "unmasked":
        sock.sendall(frame(0x1, b"no mask", mask=False))
    elif name == "badutf8":
        sock.sendall(frame(0x1, b"caf\xc3\x28 is not UTF-8"))
        wanted = 1007
    elif name == "bigping":
        sock.sendall(frame(0x9, b"p" * 200))
    elif name == "rsv1":
        sock.sendall(frame(0x1, b"not compressed", rsv1=True))
    expect_close(counters, name, sock, rest, wanted)


def fault_huge(port, counters):
    """Fragments until the server answers; it must close with 1009 before the message ends."""
    sock, _, rest = upgrade(port)
    fragment = b"h" * 16384
    sent = 0
    opcode = 0x1
    data = bytearray(rest)
    code = None
    # Room lines arrive meanwhile (the fault client is a participant too): stop at the close frame.
    while sent < 4 * MAX_MESSAGE and code is None:
        try:
            sock.sendall(frame(opcode, fragment, fin=False))
        except OSError:
            break
        opcode = 0x0
        sent += len(fragment)
        while select.select([sock], [], [], 0)[0]:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            code = code_of(take_frames(data))
            if code is not None:
                break
    if code is not None:
        # The close frame is in; what follows must be the server's FIN.
        _, eof = close_code(sock, bytes(data))
        if code != 1009 or not eof:
            counters.problem(f"huge: wanted close 1009 and the server's FIN, got close {code}, FIN {eof}")
        else:
            counters.add("huge")
        sock.close()
        return
    expect_close(counters, "huge", sock, bytes(data), 1009)


def fault_bomb(port, counters):
    sock, head, rest = upgrade(port, extensions="permessage-deflate")
    if "permessage-deflate" not in head.lower():
        counters.problem("bomb: the server did not agree permessage-deflate (--ws-compression)")
        sock.close()
        return
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(bytes(64 * 1024 * 1024)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    if payload.endswith(b"\x00\x00\xff\xff"):
        payload = payload[:-4]
    try:
        sock.sendall(frame(0x1, payload, rsv1=True))
    except OSError:
        pass
    expect_close(counters, "bomb", sock, rest, 1009)


def fault_trickle(port, counters):
    sock, _, rest = upgrade(port)
    for byte in frame(0x1, b"trickled one byte at a time"):
        sock.send(bytes([byte]))
        time.sleep(0.003)
    sock.sendall(frame(0x8, struct.pack("!H", 1000)))
    expect_close(counters, "trickle", sock, rest, 1000)


def fault_noread(port, count, held, counters):
    for _ in range(count):
        sock, _, _ = upgrade(port, rcvbuf=4096)
        held.append(sock)
        counters.add("noread")


def worker(port, deadline, stop, counters, job):
    while not stop.is_set() and time.time() < deadline:
        try:
            job()
        except OSError as error:
            counters.problem(f"a fault client: {error}")
        time.sleep(random.uniform(0.01, 0.05))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="path to the release ChatExample")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the faults run (default 10)")
    args = parser.parse_args()

    raise_fd_limit()
    chatbench = build_chatbench(ROOT)
    http_port = random.randrange(30000, 32000)
    server = Server(args.server, extra_args=("--http-port", str(http_port), "--ws-compression"))
    baseline_fds = server.fds_at_rest()
    rate, msgs, conns, senders = 100, int(100 * (args.seconds + 4)), 30, 3
    print(f"WebSocket fault injection: server pid {server.pid}, /chat on port {http_port}; chatbench fanout --ws "
          f"{conns} clients, {senders} senders x {msgs} lines at {rate}/s; faults for {args.seconds:.0f} s", flush=True)
    bench = subprocess.Popen(
        [chatbench, "fanout", "--port", str(http_port), "--ws", "/chat", "--conns", str(conns), "--senders",
         str(senders), "--msgs", str(msgs), "--rate", str(rate), "--timeout", str(int(msgs / rate + 60))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # chatbench's room settles (its sync probes), then the broadcast is under way
    counters = Counters()
    stop = threading.Event()
    deadline = time.time() + args.seconds
    held = []
    jobs = [
        lambda: fault_vanish(http_port, counters, rst=True),
        lambda: fault_vanish(http_port, counters, rst=False),
        *[(lambda name=name: fault_protocol(http_port, counters, name))
          for name in ("garbage", "unmasked", "badutf8", "bigping", "rsv1")],
        lambda: fault_huge(http_port, counters),
        lambda: fault_trickle(http_port, counters),
    ]
    threads = [threading.Thread(target=worker, args=(http_port, deadline, stop, counters, job)) for job in jobs]
    threads.append(threading.Thread(target=fault_noread, args=(http_port, 20, held, counters)))
    threads.append(threading.Thread(target=lambda: [fault_bomb(http_port, counters) for _ in range(3)]))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 60)
    stop.set()
    out, err = bench.communicate(timeout=msgs / rate + 120)
    result = parse_chatbench(out)
    for sock in held:
        reset(sock)

    problems = list(counters.problems)
    if bench.returncode != 0 or not result:
        problems.append(f"chatbench failed (exit {bench.returncode}): {(out + err).strip()[-500:]}")
    for key in ("lost", "duplicates", "gaps", "echoed", "closed"):
        if result.get(key, "0") != "0":
            problems.append(f"chatbench {key}={result[key]}")
    alive = server.alive()
    relays = alive and relay_works(server.port)
    final_fds = server.wait_for_fds(baseline_fds) if alive else -1
    exit_status = server.stop()
    faults = {name: counters.values.get(name, 0) for name in (
        "vanish", "garbage", "unmasked", "badutf8", "bigping", "rsv1", "huge", "bomb", "trickle", "noread")}
    print("faults answered: " + ", ".join(f"{name}={count}" for name, count in faults.items()))
    print(f"chatbench: " + " ".join(f"{key}={result.get(key, '?')}" for key in (
        "expected", "received", "lost", "duplicates", "gaps", "echoed", "closed", "p99_us")))
    print(f"server relays afterwards: {relays}; open files {baseline_fds} at rest, {final_fds} at the end; "
          f"exit status on SIGTERM: {exit_status}")
    if not alive:
        problems.append(f"the server died: {server.stderr()}")
    elif not relays:
        problems.append("the server no longer relays after the faults")
    if alive and final_fds != baseline_fds:
        problems.append(f"open files did not return to the baseline {baseline_fds}: {final_fds}")
    if exit_status != 0:
        problems.append(f"the server did not exit 0 on SIGTERM: {exit_status}")
    for name, count in faults.items():
        if count == 0:
            problems.append(f"no {name} fault was answered")
    if problems:
        for problem in problems[:20]:
            print(f"FAIL: {problem}", file=sys.stderr)
        sys.exit(1)
    print("WebSocket fault injection passed: nothing lost, every fault answered, server alive and back to its baseline")


if __name__ == "__main__":
    main()
