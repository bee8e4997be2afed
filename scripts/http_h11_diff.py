#!/usr/bin/env python3
"""Differential check of UVLoop's HTTPParser against Python's h11 on a corpus of valid and
invalid requests: both must accept or reject each one, and where both accept, give the same
method, target, version, fields (names in their case, values trimmed), body and trailers.
Every disagreement must be one the corpus names as a deliberate one (UVLoop is stricter
than h11 where RFC 9110/9112 allow a choice); anything else fails.

Usage: python3 scripts/http_h11_diff.py [BUILD_DIR]   (default .build/release; needs HTTPParserFuzz)
"""

import json
import os
import subprocess
import sys
import tempfile

import h11

BUILD = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
H = b"Host: x\r\n"

# (name, bytes, the deliberate divergence if any)
CORPUS = [
    ("get", b"GET / HTTP/1.1\r\n" + H + b"\r\n", None),
    ("get-query", b"GET /a/b?c=d&e=%20 HTTP/1.1\r\n" + H + b"Accept: */*\r\n\r\n", None),
    ("http10", b"GET / HTTP/1.0\r\n\r\n", None),
    ("http10-keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", None),
    ("ows", b"GET / HTTP/1.1\r\n" + H + b"A:   spaced value \t \r\nB:\r\n\r\n", None),
    ("obs-text", b"GET / HTTP/1.1\r\n" + H + b"A: caf\xc3\xa9\r\n\r\n", None),
    ("length", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello", None),
    ("length-zero", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", None),
    ("length-list-same", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\nabc", None),
    ("length-twice-same", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", None),
    ("chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", None),
    ("chunked-ext", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;a=b;c\r\nhello\r\n0\r\n\r\n", None),
    ("chunked-upper", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", None),
    ("chunked-trailers", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Sum: 9\r\nY: z\r\n\r\n", None),
    ("pipelined", b"GET /1 HTTP/1.1\r\n" + H + b"\r\nPOST /2 HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\n" + H + b"\r\n", None),
    ("methods", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", None),
    ("custom-method", b"PURGE-ALL /x HTTP/1.1\r\n" + H + b"\r\n", None),
    ("absolute-target", b"GET http://x/y HTTP/1.1\r\n" + H + b"\r\n", None),
    ("garbage", b"GARBAGE\r\n\r\n", None),
    ("binary", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", None),
    ("no-host", b"GET / HTTP/1.1\r\n\r\n", None),
    ("two-hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", None),
    # Deliberate: RFC 9112 §6.1 lets a server reject both framings, the smuggling defence.
    ("cl-te", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "CL with TE"),
    ("cl-conflict", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", None),
    ("cl-list-conflict", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3, 4\r\n\r\nabcd", None),
    ("cl-negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -3\r\n\r\n", None),
    ("cl-plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\nabc", None),
    ("cl-hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x3\r\n\r\nabc", None),
    ("te-gzip", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", None),
    ("te-gzip-chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", None),
    ("te-chunked-twice", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", None),
    ("chunk-size-bad", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", None),
    ("chunk-size-empty", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n", None),
    ("chunk-no-crlf", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n", None),
    # Deliberate: RFC 9112 §5.2 lets a server reject obsolete line folding rather than unfold.
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"A: b\r\n c\r\n\r\n", "obs-fold"),
    ("space-before-colon", b"GET / HTTP/1.1\r\n" + H + b"A : b\r\n\r\n", None),
    ("bare-cr-value", b"GET / HTTP/1.1\r\n" + H + b"A: b\rc\r\n\r\n", None),
    ("bad-name", b"GET / HTTP/1.1\r\n" + H + b"A(b: c\r\n\r\n", None),
    ("empty-name", b"GET / HTTP/1.1\r\n" + H + b": c\r\n\r\n", None),
    ("nul-value", b"GET / HTTP/1.1\r\n" + H + b"A: b\x00c\r\n\r\n", None),
    ("double-space", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", None),
    ("space-in-target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", None),
    ("lowercase-version", b"GET / http/1.1\r\n" + H + b"\r\n", None),
    # Deliberate: an HTTP/1 server answers other major versions 505 (RFC 9110 §15.6.6).
    ("version-2", b"GET / HTTP/2.0\r\n" + H + b"\r\n", "HTTP/2.0 request line"),
    ("version-junk", b"GET / HTTP/1.1x\r\n" + H + b"\r\n", None),
    # Deliberate: RFC 9112 §2.2 lets a recipient accept a bare LF; UVLoop does not (smuggling).
    ("bare-lf", b"GET / HTTP/1.1\n" + b"Host: x\n\n", "bare LF"),
    # Deliberate: RFC 9110 §5.5 forbids CTLs in values; h11 lets all but NUL and whitespace through.
    ("ctl-value", b"GET / HTTP/1.1\r\n" + H + b"A: b\x01c\r\n\r\n", "CTL in field value"),
    # Deliberate: RFC 9112 §7.1 has no whitespace after a chunk size without an extension.
    ("chunk-size-space", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "whitespace after chunk size"),
    # Deliberate: RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    ("te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding in HTTP/1.0"),
    # Deliberate: RFC 9112 §2.2 says to ignore empty lines before a request line.
    ("leading-crlf", b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", "leading empty lines"),
]


def h11_parse(data):
    """What h11 makes of `data` as a server: (messages, rejected)."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    messages = []
    current = None
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if event is h11.PAUSED and current is None:
                    conn.start_next_cycle()
                    continue
                break
            if isinstance(event, h11.Request):
                current = {
                    "method": event.method.decode("latin-1"), "target": event.target.decode("latin-1"),
                    "version": event.http_version.decode(),
                    "fields": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in event.headers.raw_items()],
                    "body": "", "trailers": [],
                }
            elif isinstance(event, h11.Data):
                current["body"] += event.data.decode("latin-1")
            elif isinstance(event, h11.EndOfMessage):
                current["trailers"] = [[n.decode("latin-1"), v.decode("latin-1")] for n, v in event.headers.raw_items()]
                messages.append(current)
                current = None
                conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                conn.send(h11.EndOfMessage())
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
    except h11.RemoteProtocolError:
        return messages, True
    return messages, False


FRAMING = {"content-length", "transfer-encoding"}


def comparable(messages):
    """Messages without framing fields: h11 rewrites their values (it merges equal
    Content-Lengths and lowercases codings); the bodies show the framing instead."""
    return [dict(m, fields=[f for f in m["fields"] if f[0].lower() not in FRAMING]) for m in messages]


def main():
    binary = os.path.join(BUILD, "HTTPParserFuzz")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data, _ in CORPUS:
            path = os.path.join(folder, name)
            with open(path, "wb") as file:
                file.write(data)
            paths.append(path)
        output = subprocess.run([binary, "--dump", *paths], capture_output=True, check=True, timeout=60).stdout
    ours = [json.loads(line) for line in output.decode().splitlines()]
    agreed = deliberate = 0
    problems = []
    for (name, data, divergence), mine in zip(CORPUS, ours):
        theirs, h11_rejected = h11_parse(data)
        we_rejected = mine["error"] is not None
        same = we_rejected == h11_rejected and comparable(mine["messages"]) == comparable(theirs)
        if same:
            agreed += 1
        elif divergence:
            deliberate += 1
            print(f"deliberate: {name}: {divergence} (UVLoop {'rejects' if we_rejected else 'accepts'}, "
                  f"h11 {'rejects' if h11_rejected else 'accepts'})")
        else:
            problems.append(f"{name}: UVLoop {mine} vs h11 {theirs} rejected={h11_rejected}")
    for problem in problems:
        print("DIFFERENT:", problem)
    print(f"http_h11_diff: {agreed + deliberate} passed, {len(problems)} failed "
          f"({agreed} identical, {deliberate} deliberate divergences)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
