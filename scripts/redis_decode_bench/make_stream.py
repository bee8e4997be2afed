#!/usr/bin/env python3
"""Writes a pipelined RESP2 reply stream like a chat federation's traffic to a file.

Per 8 replies: +OK, :counter, a 20-byte bulk (GET), a null bulk, a 120-byte bulk, a pub/sub
message array (3 bulks), an XREAD reply with 5 entries of 2 fields each, an error line.
"""
import sys


def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(items) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


def main() -> None:
    path, rounds = sys.argv[1], int(sys.argv[2])
    text = b"x" * 120
    with open(path, "wb") as out:
        for index in range(rounds):
            entries = [
                array([bulk(b"%d-%d" % (1700000000000 + index, n)), array([bulk(b"from"), bulk(b"ada"), bulk(b"text"), bulk(text[:60])])])
                for n in range(5)
            ]
            out.write(b"+OK\r\n")
            out.write(b":%d\r\n" % index)
            out.write(bulk(b"v" * 20))
            out.write(b"$-1\r\n")
            out.write(bulk(text))
            out.write(array([bulk(b"message"), bulk(b"chat:{lobby}"), bulk(text[:40])]))
            out.write(array([array([bulk(b"chat:{lobby}:events"), array(entries)])]))
            out.write(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")


main()
