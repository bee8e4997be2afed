#!/usr/bin/env python3
"""The README's accept loop survives running out of descriptors: SeedChatExample under
`ulimit -n 40` with 60 clients connecting keeps serving once descriptors free up.

    python3 scripts/seed_emfile_test.py Examples/.build/release/SeedChatExample

60 clients connect at once; the server can hold only about 30 of them, so accept fails with
EMFILE and the rest wait in the backlog. The first 40 then leave, so that the 20 left fit beside
the server's own ~11 descriptors. Pass: the server is still
running, every remaining client is accepted, and a line from the last client to connect reaches
every other remaining client. Loopback only; every wait is bounded; the server is stopped at the end.
"""
import signal
import socket
import subprocess
import sys
import time

CLIENTS = 60
LEAVING = 40
LIMIT = 40
WAIT = 20.0


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    raise SystemExit(1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    binary = sys.argv[1]
    port = free_port()
    server = subprocess.Popen(["sh", "-c", f'ulimit -n {LIMIT} && exec "$0" {port}', binary],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    clients = []
    try:
        deadline = time.monotonic() + WAIT
        while True:  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    fail("SeedChatExample did not start listening")
                time.sleep(0.05)
        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=WAIT))
        time.sleep(0.5)  # let the server meet EMFILE (nothing to synchronise on: it is the point)
        if server.poll() is not None:
            fail(f"SeedChatExample exited at EMFILE (status {server.returncode})")

        # Two thirds leave; the others must all be accepted and relay to each other.
        for sock in clients[:LEAVING]:
            sock.close()
        remaining = clients[LEAVING:]
        sender, receivers = remaining[-1], remaining[:-1]
        token = b"still serving after EMFILE\n"
        deadline = time.monotonic() + WAIT
        pending = set(range(len(receivers)))
        buffers = [b""] * len(receivers)
        for sock in receivers:
            sock.setblocking(False)
        while pending and time.monotonic() < deadline:
            sender.sendall(token)  # repeated until every receiver is in the room: lines before a join are not relayed
            time.sleep(0.2)
            for index in list(pending):
                try:
                    buffers[index] += receivers[index].recv(65536)
                except BlockingIOError:
                    continue
                if token in buffers[index]:
                    pending.discard(index)
        if server.poll() is not None:
            fail(f"SeedChatExample exited (status {server.returncode})")
        if pending:
            server.send_signal(signal.SIGTERM)
            output = server.communicate(timeout=10)[0]
            fail(f"{len(pending)} of {len(receivers)} clients never got a line after descriptors freed up; server said: {output[-1500:]}")
        print(f"seed_emfile_test: 1 passed, 0 failed ({len(receivers)} clients served after EMFILE at ulimit -n {LIMIT})")
    finally:
        for sock in clients:
            sock.close()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
