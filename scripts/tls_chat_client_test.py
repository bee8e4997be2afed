#!/usr/bin/env python3
"""Drives ChatClientExample against servers we did not write: a Python `ssl` line server (TLS)
and a plain socket one (TCP), with standard input from a pipe, a file and /dev/null, and
standard output to a pipe and a file; then the failures: refused, unknown CA, wrong host,
plaintext server on --tls. Usage: tls_chat_client_test.py Examples/.build/release/ChatClientExample"""

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

CLIENT = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="uvloop-tls-client-")


def sh(*args):
    subprocess.run(args, check=True, cwd=TMP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates():
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Client Test CA",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(TMP, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=Other CA")


class LineServer:
    """Accepts connections; answers each line with 'got: <line>', and 'bye' at the client's end."""

    def __init__(self, tls):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.context = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(os.path.join(TMP, "server.pem"), os.path.join(TMP, "server.key"))
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()

    def handle(self, connection):
        try:
            if self.context:
                connection = self.context.wrap_socket(connection, server_side=True)
            connection.sendall(b"welcome\n")
            buffer = b""
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    connection.sendall(b"got: " + line + b"\n")
            connection.sendall(b"bye\n")
            if self.context:
                connection.unwrap()
            connection.close()
        except (OSError, ssl.SSLError):
            connection.close()


def run_client(args, stdin_data=None, stdin_path=None, stdout_path=None, timeout=20):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.PIPE
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    process = subprocess.run([CLIENT] + args, input=stdin_data if not stdin_path else None, stdin=None if not stdin_path else stdin,
                             stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)
    out = open(stdout_path, "rb").read() if stdout_path else process.stdout
    return process.returncode, out.decode(), process.stderr.decode()


failures = []


def check(name, condition, detail):
    print(("ok   " if condition else "FAIL ") + name)
    if not condition:
        failures.append(name)
        print("     " + detail)


make_certificates()
tls_server = LineServer(tls=True)
tcp_server = LineServer(tls=False)
ca = os.path.join(TMP, "ca.pem")
tls_args = ["--host", "localhost", "--port", str(tls_server.port), "--tls", "--ca-file", ca]
expected = "welcome\ngot: one\ngot: two\nbye\n"

code, out, err = run_client(tls_args, stdin_data=b"one\ntwo\n")
check("TLS, stdin and stdout pipes", code == 0 and out == expected, f"exit {code}, out {out!r}, err {err!r}")

input_file = os.path.join(TMP, "input.txt")
with open(input_file, "wb") as f:
    f.write(b"one\ntwo\n")
output_file = os.path.join(TMP, "output.txt")
code, out, err = run_client(tls_args, stdin_path=input_file, stdout_path=output_file)
check("TLS, stdin < file and stdout > file", code == 0 and out == expected, f"exit {code}, out {out!r}, err {err!r}")

code, out, err = run_client(tls_args, stdin_path="/dev/null")
check("TLS, stdin < /dev/null", code == 0 and out == "welcome\nbye\n", f"exit {code}, out {out!r}, err {err!r}")

code, out, err = run_client(["--port", str(tcp_server.port)], stdin_data=b"one\ntwo\n")
check("plain TCP", code == 0 and out == expected, f"exit {code}, out {out!r}, err {err!r}")

code, out, err = run_client(["--host", "localhost", "--port", str(tls_server.port), "--tls", "--insecure"], stdin_data=b"one\ntwo\n")
check("TLS --insecure", code == 0 and out == expected, f"exit {code}, out {out!r}, err {err!r}")

probe = socket.socket()
probe.bind(("127.0.0.1", 0))
closed_port = probe.getsockname()[1]
probe.close()
code, out, err = run_client(["--port", str(closed_port), "--tls"], stdin_data=b"")
check("refused: exit 1 with one line", code == 1 and err.count("\n") == 1 and "ECONNREFUSED" in err, f"exit {code}, err {err!r}")

code, out, err = run_client(tls_args[:-1] + [os.path.join(TMP, "other.pem")], stdin_data=b"one\n")
check("unknown CA: exit 1, verify failure named", code == 1 and err.count("\n") == 1 and
      f"TLS handshake with localhost:{tls_server.port} failed: certificate verify failed (unable to get local issuer certificate)" in err,
      f"exit {code}, err {err!r}")

code, out, err = run_client(tls_args + ["--server-name", "example.com"], stdin_data=b"one\n")
check("wrong host: exit 1, hostname mismatch", code == 1 and "certificate verify failed (hostname mismatch)" in err, f"exit {code}, err {err!r}")

code, out, err = run_client(["--port", str(tcp_server.port), "--tls", "--insecure"], stdin_data=b"one\n")
check("--tls against a plaintext server: exit 1", code == 1 and err.startswith("ChatClientExample: TLS handshake with 127.0.0.1:"),
      f"exit {code}, err {err!r}")

if failures:
    print(f"{len(failures)} failed: {failures}")
    sys.exit(1)
print("all ChatClientExample checks passed")
