#!/usr/bin/env bash
# Decoding throughput of a pipelined RESP reply stream: UVLoop's RESPDecoder against hiredis'
# reply reader (Debian libhiredis-dev), both release builds, same stream, same chunk size.
# The figures behind the choice in docs/DESIGN.md ("RESP decoder").
#
#   bash scripts/redis_decode_bench.sh [--rounds N] [--chunk BYTES] [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=100000
chunk=65536
repeat=5
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --chunk) chunk="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
[ -f /usr/include/hiredis/read.h ] || { echo "redis_decode_bench: needs libhiredis-dev (apt-get install libhiredis-dev)" >&2; exit 1; }

out=.build/redis-decode-bench
mkdir -p "$out"
python3 scripts/redis_decode_bench/make_stream.py "$out/stream.resp" "$rounds"
gcc -O2 -o "$out/hiredis_decode" scripts/redis_decode_bench/hiredis_decode.c -lhiredis
swiftc -O -wmo -module-name RESPDecodeBench -package-name uvloop -o "$out/resp_decode" \
    Sources/UVLoopCodecs/Bytes/*.swift Sources/UVLoopCodecs/RESP/*.swift scripts/redis_decode_bench/main.swift
echo "== stream: $(stat -c %s "$out/stream.resp") bytes, chunks of $chunk bytes"
"$out/hiredis_decode" "$out/stream.resp" "$chunk" "$repeat"
"$out/resp_decode" "$out/stream.resp" "$chunk" "$repeat"
