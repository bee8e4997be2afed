#!/usr/bin/env bash
# User-space instructions (callgrind) and heap allocations (malloc_count.so) per delivery of a
# chat relay's fan-out, independent of the machine's load: runs SERVER under callgrind twice,
# with LOW and HIGH lines per sender, and divides the differences by the extra deliveries, so
# start-up, connecting and shutting down cancel out.
#
#   scripts/callgrind_fanout.sh TOOLS SERVER [SERVER FLAGS...]
#   scripts/callgrind_fanout.sh .build/tools Examples/.build/release/ChatExample --plain
#   scripts/callgrind_fanout.sh .build/tools .build/tools/chat_relay_batched
#
# TOOLS holds chatbench and malloc_count.so (make -C Benchmarks/chatbench OUT=TOOLS; make -C
# Benchmarks/Baseline OUT=TOOLS). Environment: CONNS (1000), SENDERS (2), LOW (200), HIGH (600),
# PORT (3190), KEEP (a folder to keep the callgrind.out files in; `callgrind_annotate` them),
# WS (a path, e.g. /chat: the participants are WebSocket clients on the server's `--http-port
# PORT`, its line port being PORT+1; for `ChatExample`).
#   WS=/chat CONNS=100 SENDERS=10 LOW=100 HIGH=300 scripts/callgrind_fanout.sh .build/tools \
#       Examples/.build/release/ChatExample --plain
# Prints one line: instructions and mallocs per delivery. Loopback only; every run is bounded.
set -euo pipefail

tools=${1:?usage: callgrind_fanout.sh TOOLS SERVER [FLAGS...]}
server=${2:?usage: callgrind_fanout.sh TOOLS SERVER [FLAGS...]}
shift 2
conns=${CONNS:-1000}
senders=${SENDERS:-2}
low=${LOW:-200}
high=${HIGH:-600}
port=${PORT:-3190}
work=$(mktemp -d)
keep=${KEEP:-}
ws=${WS:-}
listen=(--port "$port")
bench=()
[ -n "$ws" ] && listen=(--port "$((port + 1))" --http-port "$port") && bench=(--ws "$ws")
ulimit -n 20000
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT

is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

# run MSGS: one server under callgrind, one chatbench fanout; prints "instructions mallocs delivered".
run() {
    local msgs=$1 out=$work/callgrind.$1
    shift
    MALLOC_COUNT_FILE=$work/mallocs.$msgs LD_PRELOAD=$tools/malloc_count.so \
        valgrind --tool=callgrind --callgrind-out-file="$out" "$server" --host 127.0.0.1 "${listen[@]}" "$@" \
        >"$work/server.$msgs.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do is_listening "$port" && break; sleep 0.1; done
    is_listening "$port" || { echo "server did not listen" >&2; tail -5 "$work/server.$msgs.log" >&2; exit 1; }
    local line
    line=$(timeout 600 "$tools/chatbench" fanout --port "$port" --conns "$conns" --senders "$senders" \
        --msgs "$msgs" --timeout 500 "${bench[@]}" 2>/dev/null | tail -1) || true
    local mallocs
    mallocs=$(python3 -c 'import struct,sys; print(struct.unpack("<Q", open(sys.argv[1], "rb").read(8))[0])' \
        "$work/mallocs.$msgs")
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    [ -n "$keep" ] && mkdir -p "$keep" && cp "$out" "$keep/"
    local ir delivered
    ir=$(grep -m1 '^summary:' "$out" | awk '{ print $2 }')
    delivered=$(echo "$line" | grep -oE 'received=[0-9]+' | cut -d= -f2)
    echo "$ir $mallocs ${delivered:-0}"
}

read -r ir1 m1 d1 < <(run "$low" "$@")
read -r ir2 m2 d2 < <(run "$high" "$@")
awk -v i1="$ir1" -v i2="$ir2" -v m1="$m1" -v m2="$m2" -v d1="$d1" -v d2="$d2" -v s="$(basename "$server") $*${ws:+ ws=$ws}" 'BEGIN {
    d = d2 - d1
    if (d <= 0) { print "no extra deliveries: " d1 " then " d2 > "/dev/stderr"; exit 1 }
    printf "callgrind_fanout server=\"%s\" deliveries=%d instructions_per_delivery=%.1f mallocs_per_delivery=%.4f\n",
        s, d, (i2 - i1) / d, (m2 - m1) / d
}'
