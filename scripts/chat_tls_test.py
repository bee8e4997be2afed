#!/usr/bin/env python3
"""Chat over TLS: drives the release ChatExample with a TLS port beside its plaintext one, using
Python's ssl clients (TLS 1.2 and 1.3), nc-style TCP clients, a client that never finishes its
handshake, certificate reload by SIGHUP (checked by the served certificate's fingerprint), 200
concurrent TLS clients, and ChatClientExample --tls with its standard streams redirected.

Every wait is on an event (a line received, a log line, a closed connection) with a deadline;
nothing sleeps to synchronise. Traffic stays on 127.0.0.1.
Usage: chat_tls_test.py BIN_DIR (holding ChatExample and ChatClientExample)
"""
import hashlib
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.0/1.1 are used on purpose

DEADLINE = 10.0
passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def make_certificate(directory, stem):
    """A self-signed certificate for localhost and 127.0.0.1 (a fresh random serial each time)."""
    cert, key = os.path.join(directory, stem + "-cert.pem"), os.path.join(directory, stem + "-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def fingerprint_of_file(cert):
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    return hashlib.sha256(der).hexdigest()


class Client:
    """One participant over TCP or TLS, read line by line with deadlines."""

    def __init__(self, port, tls=None, version=None):
        raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.fingerprint = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(tls)
            if version is not None:
                context.minimum_version = version
                context.maximum_version = version
            self.sock = context.wrap_socket(raw, server_hostname="localhost")
            self.fingerprint = hashlib.sha256(self.sock.getpeercert(binary_form=True)).hexdigest()
            self.version = self.sock.version()
        else:
            self.sock = raw
        self.buffer = b""
        welcome = self.expect("Welcome")
        self.name = welcome.split("You are ")[1].split(".")[0]

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def read_line(self, deadline):
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line in time (have {self.buffer!r})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                raise AssertionError(f"no line in time (have {self.buffer!r})")
            if not chunk:
                raise AssertionError(f"connection closed (have {self.buffer!r})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def expect(self, text, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(deadline)
            if text in line:
                return line

    def close(self):
        self.sock.close()


class Server:
    def __init__(self, binary, cert, key, log_path, extra=()):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--tls-cert", cert, "--tls-key", key,
             "--tls-handshake-timeout", "1", "--large-room", "1000", *extra],
            stdout=subprocess.PIPE, stderr=self.log)
        self.output = b""
        self.port = int(self._line().rsplit(" ", 1)[1])
        self.tls_port = int(self._line().rsplit(" ", 1)[1])

    def _line(self):
        deadline = time.monotonic() + DEADLINE
        while b"\n" not in self.output:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0, deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                raise AssertionError(f"server printed no port (have {self.output!r})")
            self.output += chunk
        line, self.output = self.output.split(b"\n", 1)
        return line.decode().strip()

    def wait_for_log(self, text, count=1, timeout=DEADLINE):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if open(self.log_path, errors="replace").read().count(text) >= count:
                return True
            time.sleep(0.05)  # polling a log file: there is no event to wait on
        return False

    def log_text(self):
        return open(self.log_path, errors="replace").read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def closed_within(sock, timeout):
    """True if the peer closes (or resets) the connection within `timeout`."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def all_hear(speakers, everyone, tag):
    """Each speaker says a line; everyone else must get it as `name: line`."""
    for speaker in speakers:
        speaker.send(f"{tag} from {speaker.name}")
    ok = True
    for listener in everyone:
        for speaker in speakers:
            if speaker is listener:
                continue
            try:
                listener.expect(f"{speaker.name}: {tag} from {speaker.name}")
            except AssertionError as error:
                print(f"     {listener.name} missed {speaker.name}'s line: {error}")
                ok = False
    return ok


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chat_tls_test.py BIN_DIR")
    bin_dir = sys.argv[1]
    chat, client_binary = os.path.join(bin_dir, "ChatExample"), os.path.join(bin_dir, "ChatClientExample")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        cert, key = make_certificate(directory, "served")
        old_cert = os.path.join(directory, "old-cert.pem")
        with open(cert) as src, open(old_cert, "w") as dst:
            dst.write(src.read())
        server = Server(chat, cert, key, os.path.join(directory, "server.log"))
        try:
            run(server, directory, cert, key, old_cert, client_binary)
        finally:
            code = server.stop()
            check("server exits 0 on SIGTERM", code == 0, f"(exit {code})")
            if failed:
                print("---- server log (tail)")
                print("\n".join(server.log_text().splitlines()[-40:]))
    print(f"chat_tls_test: {passed} passed, {failed} failed in {time.monotonic() - started:.1f} s")
    sys.exit(1 if failed else 0)


def run(server, directory, cert, key, old_cert, client_binary):
    # TLS 1.2 and 1.3 clients chat with nc-style TCP clients.
    tls12 = Client(server.tls_port, cert, ssl.TLSVersion.TLSv1_2)
    tls13 = Client(server.tls_port, cert, ssl.TLSVersion.TLSv1_3)
    check("TLS 1.2 and 1.3 handshakes", (tls12.version, tls13.version) == ("TLSv1.2", "TLSv1.3"),
          f"({tls12.version}, {tls13.version})")
    tcp1, tcp2 = Client(server.port), Client(server.port)
    room = [tls12, tls13, tcp1, tcp2]
    check("every line reaches everyone else (TLS 1.2, TLS 1.3, two TCP)", all_hear(room, room, "hello"))
    # The room's defences apply over TLS: line cap, control characters, names.
    tls12.send("y" * 5000)
    check("a TLS participant's over-long line is refused", "longer than 4096 bytes" in tls12.expect("longer than"))
    tls12.sock.sendall(b"bell\x07and\x1b[31mescape\n")
    relayed = tcp1.expect(f"{tls12.name}: bell")
    check("control characters are stripped from TLS lines", "\x07" not in relayed and "\x1b" not in relayed, repr(relayed))
    tls12.send(f"/nick {tcp1.name}")
    check("a TLS participant cannot take a TCP participant's name", "taken" in tls12.expect("taken"))
    tls13.send("/who")
    who = tls13.expect("In the room")
    check("/who over TLS lists TCP and TLS participants", all(c.name in who for c in room), who)

    # TLS 1.0 and 1.1 are refused by the server (its log shows it saw the hello and refused it).
    failures_before = server.log_text().count("TLS handshake with")
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = version
        context.maximum_version = version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        refused = False
        try:
            with socket.create_connection(("127.0.0.1", server.tls_port), timeout=DEADLINE) as raw:
                with context.wrap_socket(raw, server_hostname="localhost"):
                    pass
        except (ssl.SSLError, ConnectionResetError, OSError):
            refused = True
        check(f"{version.name} refused", refused)
    check("the server refused both old versions itself",
          server.wait_for_log("TLS handshake with", failures_before + 2))

    # Plaintext on the TLS port: closed cleanly, and the server keeps serving.
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=DEADLINE) as raw:
        raw.sendall(b"hello, is this the chat?\n")
        check("plaintext on the TLS port is closed", closed_within(raw, DEADLINE))
    check("the room still works after plaintext on the TLS port", all_hear([tcp1, tls12], room, "still"))

    # A client that never finishes its handshake is closed after --tls-handshake-timeout 1.
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=DEADLINE) as raw:
        began = time.monotonic()
        closed = closed_within(raw, 5)
        took = time.monotonic() - began
        check("a stalled handshake is closed after the timeout (1 s)", closed and 0.8 <= took <= 4, f"({took:.2f} s)")

    # SIGHUP with a new certificate: existing participants stay, new clients see the new one.
    old_fingerprint = fingerprint_of_file(old_cert)
    check("clients were served the first certificate", tls13.fingerprint == old_fingerprint)
    new_cert, new_key = make_certificate(directory, "renewed")
    os.replace(new_cert, cert)
    os.replace(new_key, key)
    server.proc.send_signal(signal.SIGHUP)
    check("SIGHUP logs the reload", server.wait_for_log("reloaded the TLS certificate"))
    check("existing participants still chat after the reload", all_hear(room, room, "after-reload"))
    fresh = Client(server.tls_port, cert)
    check("a new client is served the new certificate",
          fresh.fingerprint == fingerprint_of_file(cert) and fresh.fingerprint != old_fingerprint)
    room.append(fresh)
    # A broken file: the reload fails, the log says so, the current certificate stays.
    with open(cert, "w") as broken:
        broken.write("not a certificate\n")
    server.proc.send_signal(signal.SIGHUP)
    check("a failed reload is logged and keeps the old certificate",
          server.wait_for_log("the old certificate stays in use"))
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=DEADLINE) as raw:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(raw, server_hostname="localhost") as probe:
            served = hashlib.sha256(probe.getpeercert(binary_form=True)).hexdigest()
    check("after the failed reload, the renewed certificate is still served", served == fresh.fingerprint)
    # Restore the renewed certificate for the clients below (it was served all along).
    renewed_pem = ssl.DER_cert_to_PEM_cert(fresh.sock.getpeercert(binary_form=True))
    with open(cert, "w") as restored:
        restored.write(renewed_pem)

    # 200 concurrent TLS clients each get every line; the TCP client gets each of theirs.
    crowd = [Client(server.tls_port, cert) for _ in range(200)]
    check("200 TLS clients joined", len(crowd) == 200)
    lines = [f"fan-out line {i}" for i in range(5)]
    for line in lines:
        tcp1.send(line)
    missing = 0
    for member in crowd:
        for line in lines:
            try:
                member.expect(f"{tcp1.name}: {line}")
            except AssertionError:
                missing += 1
    check("each of 200 TLS clients got every line", missing == 0, f"({missing} missing)")
    for member in crowd:
        member.send(f"crowd says {member.name}")
    heard = 0
    deadline = time.monotonic() + DEADLINE
    wanted = {f"{m.name}: crowd says {m.name}" for m in crowd}
    try:
        while wanted and time.monotonic() < deadline:
            line = tcp1.read_line(deadline)
            if line in wanted:
                wanted.discard(line)
                heard += 1
    except AssertionError:
        pass
    check("the TCP client got a line from each of 200 TLS clients", not wanted, f"({heard} of 200)")
    for member in crowd:
        member.close()

    # ChatClientExample --tls --ca-file chats with a TCP client; stdin/stdout redirected.
    client_args = [client_binary, "--host", "127.0.0.1", "--port", str(server.tls_port), "--tls",
                   "--ca-file", cert, "--server-name", "localhost", "--linger", "1"]
    out_path = os.path.join(directory, "client-out.txt")
    with open(os.devnull) as null, open(out_path, "wb") as out:
        code = subprocess.run(client_args, stdin=null, stdout=out, stderr=subprocess.PIPE, timeout=DEADLINE).returncode
    text = open(out_path, errors="replace").read()
    check("ChatClientExample --tls < /dev/null > file: welcomed, exits 0", code == 0 and "Welcome" in text,
          f"(exit {code}, {text!r})")
    in_path = os.path.join(directory, "client-in.txt")
    with open(in_path, "w") as script:
        script.write("hello from a file\n/nick filed\nsecond line from a file\n")
    with open(in_path) as source, open(out_path, "wb") as out:
        code = subprocess.run(client_args, stdin=source, stdout=out, stderr=subprocess.PIPE, timeout=DEADLINE).returncode
    got_first = got_second = False
    try:
        got_first = "hello from a file" in tcp2.expect("hello from a file")
        got_second = "filed: second line from a file" in tcp2.expect("second line from a file")
    except AssertionError as error:
        print(f"     {error}")
    text = open(out_path, errors="replace").read()
    check("ChatClientExample --tls < file: the TCP client gets every line", got_first and got_second)
    check("ChatClientExample --tls > file: its output has the rename", code == 0 and "You are now known as filed" in text,
          f"(exit {code}, {text!r})")
    # Interactive: a line each way through a pipe.
    proc = subprocess.Popen(client_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"/nick piped\n")
    proc.stdin.flush()
    tcp2.expect("is now known as piped")
    tcp2.send("hello piped client")
    proc.stdin.write(b"bye from the pipe\n")
    proc.stdin.close()
    heard_bye = "piped: bye from the pipe" in tcp2.expect("bye from the pipe")
    try:
        proc.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out = proc.stdout.read()
    check("ChatClientExample --tls chats both ways with a TCP client",
          heard_bye and b"hello piped client" in out and proc.returncode == 0, f"({out!r})")
    for client in room:
        client.close()


if __name__ == "__main__":
    main()
