"""Shared by fault_injection.py, churn.py and fd_exhaustion.py: start the release chat server,
count its open files, read its memory, and make loopback clients."""

import os
import random
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time


def raise_fd_limit():
    """Raises this process's soft open-file limit to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class Server:
    """The release ChatExample in --plain mode on a loopback port below 32768."""

    def __init__(self, binary, extra_args=(), port=None, preexec_fn=None):
        self.binary = binary
        self.logdir = tempfile.mkdtemp(prefix="uvloop-reliability-")
        self.stdout_path = os.path.join(self.logdir, "stdout")
        self.stderr_path = os.path.join(self.logdir, "stderr")
        for attempt in range(20):
            self.port = port or random.randrange(20000, 30000)
            self.process = subprocess.Popen(
                [binary, "--plain", "--host", "127.0.0.1", "--port", str(self.port), *extra_args],
                stdout=open(self.stdout_path, "wb"),
                stderr=open(self.stderr_path, "wb"),
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec_fn,
            )
            deadline = time.time() + 20
            while time.time() < deadline:
                if self.process.poll() is not None:
                    break
                if b"starting up on port" in open(self.stdout_path, "rb").read():
                    return
                time.sleep(0.02)
            if self.process.poll() is None:
                self.process.kill()
                fail(f"the server did not start within 20 s: {self.stderr()}")
            if port or b"EADDRINUSE" not in open(self.stderr_path, "rb").read():
                fail(f"the server exited with {self.process.returncode}: {self.stderr()}")
        fail("no free port found in 20000-29999")

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stderr(self, tail=2000):
        """The end of the server's log (the last `tail` characters; all of it with tail=None)."""
        text = open(self.stderr_path, "rb").read().decode(errors="replace")
        return text if tail is None else text[-tail:]

    def fds_at_rest(self):
        """Open files at rest, counted after a first relay between two clients: libuv opens a
        spare descriptor (for the EMFILE handling of its uv_listen, which TCPListener does not
        use) when the process makes its first TCP stream, so a count taken before any client
        came would be one short of every count after."""
        time.sleep(0.2)
        before = self.fds()
        if not relay_works(self.port):
            fail("the server does not relay before the test starts")
        self.wait_for_fds(before + 1, timeout=5.0)
        time.sleep(0.2)
        return self.fds()

    def wait_for_fds(self, target, timeout=15.0):
        """Waits until the server's open-file count is at most `target`; returns the last count."""
        deadline = time.time() + timeout
        count = self.fds()
        while count > target and time.time() < deadline:
            time.sleep(0.05)
            count = self.fds()
        return count

    def stop(self):
        """SIGTERM, as an operator would; returns the exit status (None if it had to be killed)."""
        if not self.alive():
            return self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def connect(port, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return sock


def reset(sock):
    """Closes with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def relay_works(port, timeout=5.0):
    """Two fresh clients: a line from one reaches the other, byte for byte."""
    a = connect(port)
    b = connect(port)
    try:
        token = f"relay-check {random.random()}\n".encode()
        deadline = time.time() + timeout
        got = b""
        # The server may not have registered b yet: resend until it arrives.
        while time.time() < deadline and token not in got:
            a.sendall(token)
            b.settimeout(0.2)
            try:
                while True:
                    chunk = b.recv(65536)
                    if not chunk:
                        return False
                    got += chunk
                    if token in got:
                        break
            except socket.timeout:
                pass
        return token in got
    finally:
        a.close()
        b.close()


def build_chatbench(root):
    """Builds Benchmarks/chatbench/chatbench into .build-rel/tools."""
    root = os.path.abspath(root)
    out = os.path.join(root, ".build-rel", "tools")
    os.makedirs(out, exist_ok=True)
    binary = os.path.join(out, "chatbench")
    source = os.path.join(root, "Benchmarks", "chatbench", "chatbench.c")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        subprocess.run(["make", "-s", "-C", os.path.dirname(source), f"OUT={out}"], check=True)
    return binary


def parse_chatbench(output):
    """The key=value pairs of chatbench's last stdout line."""
    lines = [line for line in output.splitlines() if line.startswith("chatbench ")]
    if not lines:
        return {}
    return dict(pair.split("=", 1) for pair in lines[-1].split()[1:] if "=" in pair)
