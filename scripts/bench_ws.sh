#!/usr/bin/env bash
# WebSocket against TCP on the same servers, in the same run: each measurement starts a fresh
# server pinned to core 0 (taskset) and one chatbench pinned to core 1, rounds interleaved (the
# order of TCP and WebSocket alternates), and prints a table of medians and ratios WS / TCP.
#
#   bash scripts/bench_ws.sh BIN_DIR [CHATBENCH]          # about 4 minutes on 2 cores
#   QUICK=1 ROUNDS=1 bash scripts/bench_ws.sh BIN_DIR    # a smoke test (about 40 s)
#
# BIN_DIR holds the release ChatExample, EchoExample and WebSocketEchoExample; CHATBENCH defaults
# to building Benchmarks/chatbench into .build-bench/tools. Environment: ROUNDS (3), OUT
# (Benchmarks/results), PORT_BASE (22000), HOLD_CONNS (19000, or what the open-file limit allows),
# ZLIB_CONNS (1000), TESTS (which measurements: "fanout100 echo100 hold zlib", the default). Measurements:
#   fanout100  ChatExample --plain --port A --http-port B: chatbench fanout 100 x 10 on A (TCP)
#              and with --ws /chat on B (WebSocket); nothing may be lost.
#   echo100    EchoExample (TCP) and WebSocketEchoExample --no-compression, 100 connections, 64 B.
#   hold       ChatExample --plain: N idle participants on A and on B; server RSS delta / N.
#   zlib*      WebSocketEchoExample: ZLIB_CONNS idle connections with permessage-deflate agreed at
#              window bits 15 (the default), 12 and 9, against none: the cost of compression.
# Raw lines go to OUT/ws_raw.txt, the table to OUT/ws_table.md; servers and chatbench are stopped
# by their PIDs, also on Ctrl-C; every chatbench run is bounded by --timeout and `timeout`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:?usage: bench_ws.sh BIN_DIR [CHATBENCH]}
BIN=$(cd "$BIN" && pwd)
CHATBENCH=${2:-}
ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
OUT=${OUT:-$ROOT/Benchmarks/results}
PORT_BASE=${PORT_BASE:-22000}
LOGS=$ROOT/.build-bench/ws-logs
HOST=127.0.0.1
started=$(date +%s)
log() { printf '%s [%4ds] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - started))" "$*" >&2; }

for product in ChatExample EchoExample WebSocketEchoExample; do
    [ -x "$BIN/$product" ] || { echo "bench_ws: $BIN/$product is missing (swift build -c release --package-path Examples --product $product)" >&2; exit 2; }
done
mkdir -p "$OUT" "$LOGS"
if [ -z "$CHATBENCH" ]; then
    make -s -C "$ROOT/Benchmarks/chatbench" OUT="$ROOT/.build-bench/tools" >"$LOGS/build.log" 2>&1 ||
        { cat "$LOGS/build.log"; exit 1; }
    CHATBENCH=$ROOT/.build-bench/tools/chatbench
fi

ulimit -n "$(ulimit -Hn)"
max_hold=$(($(ulimit -n) - 200))
HOLD_CONNS=${HOLD_CONNS:-$((max_hold < 19000 ? max_hold : 19000))}
ZLIB_CONNS=${ZLIB_CONNS:-1000}
TESTS=" ${TESTS:-fanout100 echo100 hold zlib} "
if [ "$QUICK" = 1 ]; then
    FANOUT="--conns 100 --senders 10 --msgs 300"
    ECHO_SECS=1
    HOLD_CONNS=2000
    ZLIB_CONNS=300
else
    FANOUT="--conns 100 --senders 10 --msgs 3000"
    ECHO_SECS=3
fi

SERVER_PID=
cleanup() { [ -z "$SERVER_PID" ] || kill -KILL "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# True once 127.0.0.1:$1 accepts a connection. A probe, not a read of /proc/net/tcp: with other
# engineers' benchmarks holding 100,000+ sockets, reading that file takes seconds.
is_listening() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# start_server PORT [PORT2] -- COMMAND...: starts it on core 0 and waits until it listens on both.
start_server() {
    local ports=()
    while [ "$1" != -- ]; do ports+=("$1"); shift; done
    shift
    taskset -c 0 "$@" >"$LOGS/server-${ports[0]}.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        local all=1
        for p in "${ports[@]}"; do is_listening "$p" || all=0; done
        ((all)) && { sleep 0.2; return 0; }  # the probes' closes reach the server before chatbench counts its files
        kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited at start:"; tail -5 "$LOGS/server-${ports[0]}.log" >&2; return 1; }
        sleep 0.05
    done
    log "the server did not listen within 10 s"
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

RAW=$OUT/ws_raw.txt
: >"$RAW"
NEXT_PORT=$PORT_BASE

# measure ROUND TEST TRANSPORT SERVER CHATBENCH-ARGS...: one fresh server, one chatbench run, one raw line.
measure() {
    local round=$1 test=$2 transport=$3 server=$4
    shift 4
    local a=$NEXT_PORT b=$((NEXT_PORT + 1))
    NEXT_PORT=$((NEXT_PORT + 2))
    local command target=$a
    case $server in
        chat) command=("$BIN/ChatExample" --plain --host "$HOST" --port "$a" --http-port "$b") ;;
        echo) command=("$BIN/EchoExample" --host "$HOST" --port "$a") ;;
        wsecho) command=("$BIN/WebSocketEchoExample" --host "$HOST" --port "$a" --no-compression) ;;
        wszlib) command=("$BIN/WebSocketEchoExample" --host "$HOST" --port "$a") ;;
    esac
    [ "$server" = chat ] && [ "$transport" = ws ] && target=$b
    local ports=("$a")
    [ "$server" = chat ] && ports+=("$b")
    if ! start_server "${ports[@]}" -- "${command[@]}"; then
        echo "round=$round test=$test transport=$transport error=server_start" >>"$RAW"
        stop_server
        return 0
    fi
    local line status=0
    line=$(timeout 150 taskset -c 1 "$CHATBENCH" "$@" --host "$HOST" --port "$target" --pid "$SERVER_PID" \
        2>>"$LOGS/chatbench.log" | tail -1) || status=$?
    kill -0 "$SERVER_PID" 2>/dev/null || line="$line server_died=1"
    stop_server
    echo "round=$round test=$test transport=$transport exit=$status ${line:-error=no_output}" >>"$RAW"
    log "r$round $test $transport: $(echo "$line" | grep -oE '(deliveries_per_s|p99_us|kb_per_conn|round_trips_per_s|lost|error)=[^ ]*' | tr '\n' ' ')"
}

# Both orders, alternating by round.
pair() { # pair ROUND TEST SERVER_TCP SERVER_WS ARGS (ARGS word-split; the WS run adds --ws PATH)
    local round=$1 test=$2 tcp=$3 ws=$4 args=$5 path=/chat
    [ "$ws" = chat ] || path=/
    # shellcheck disable=SC2086
    if ((round % 2)); then
        measure "$round" "$test" tcp "$tcp" $args
        measure "$round" "$test" ws "$ws" $args --ws "$path"
    else
        measure "$round" "$test" ws "$ws" $args --ws "$path"
        measure "$round" "$test" tcp "$tcp" $args
    fi
}

log "bench_ws: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS round(s), hold $HOLD_CONNS, zlib $ZLIB_CONNS"
for round in $(seq "$ROUNDS"); do
    log "== round $round of $ROUNDS"
    [[ $TESTS != *" fanout100 "* ]] || pair "$round" fanout100 chat chat "fanout $FANOUT --timeout 60"
    [[ $TESTS != *" echo100 "* ]] || pair "$round" echo100 echo wsecho "echo --conns 100 --secs $ECHO_SECS --size 64"
    [[ $TESTS != *" hold "* ]] || pair "$round" hold chat chat "hold --conns $HOLD_CONNS"
    [[ $TESTS == *" zlib "* ]] || continue
    zlib=("none|" "w15|permessage-deflate"
        "w12|permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
        "w9|permessage-deflate; server_max_window_bits=9; client_max_window_bits=9")
    for ((k = 0; k < ${#zlib[@]}; k++)); do
        entry=${zlib[$(((k + round - 1) % ${#zlib[@]}))]}
        name=${entry%%|*} offer=${entry#*|}
        if [ -n "$offer" ]; then
            measure "$round" "zlib_$name" ws wszlib hold --conns "$ZLIB_CONNS" --ws / --ws-extensions "$offer"
        else
            measure "$round" "zlib_$name" ws wszlib hold --conns "$ZLIB_CONNS" --ws /
        fi
    done
done

{
    echo "# bench_ws: date=$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "# rounds=$ROUNDS quick=$QUICK load_end=$(cut -d' ' -f1-3 /proc/loadavg) elapsed_s=$(($(date +%s) - started))"
} >>"$RAW"
python3 - "$RAW" "$OUT/ws_table.md" <<'PY'
import statistics
import sys

raw, out = sys.argv[1], sys.argv[2]
runs = {}
notes = []
for line in open(raw):
    if line.startswith("#"):
        notes.append(line.strip("# \n"))
        continue
    fields = dict(p.split("=", 1) for p in line.split() if "=" in p)
    runs.setdefault((fields["test"], fields["transport"]), []).append(fields)


def median(test, transport, key):
    values = [float(r[key]) for r in runs.get((test, transport), []) if key in r and "error" not in r]
    return statistics.median(values) if values else None


def total(test, transport, key):
    return sum(int(r.get(key, 0)) for r in runs.get((test, transport), []))


def fmt(value, digits=0):
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(a, b):
    return "—" if a is None or not b else f"{a / b:.2f}"


def paired(test, key):
    """The median over rounds of each round's WS / TCP: the two ran back to back, so a round's
    ratio is less exposed to the machine's load drifting between rounds than a ratio of medians."""
    by_round = {}
    for transport in ("tcp", "ws"):
        for r in runs.get((test, transport), []):
            if key in r and "error" not in r:
                by_round.setdefault(r["round"], {})[transport] = float(r[key])
    ratios = [v["ws"] / v["tcp"] for v in by_round.values() if v.get("tcp") and "ws" in v]
    return "—" if not ratios else f"{statistics.median(ratios):.2f} (" + ", ".join(f"{x:.2f}" for x in ratios) + ")"


rows = ["| figure | TCP | WebSocket | WS / TCP, median of rounds (each round) | goal |", "|---|---:|---:|---:|---|"]
f_tcp, f_ws = median("fanout100", "tcp", "deliveries_per_s"), median("fanout100", "ws", "deliveries_per_s")
rows.append(f"| fan-out 100 × 10, deliveries/s | {fmt(f_tcp)} | {fmt(f_ws)} | {paired('fanout100', 'deliveries_per_s')} | ≥ 0.8 |")
p_tcp, p_ws = median("fanout100", "tcp", "p99_us"), median("fanout100", "ws", "p99_us")
rows.append(f"| fan-out 100 × 10, p99 latency µs | {fmt(p_tcp)} | {fmt(p_ws)} | {paired('fanout100', 'p99_us')} | |")
rows.append(f"| fan-out lost (all rounds) | {total('fanout100', 'tcp', 'lost')} | {total('fanout100', 'ws', 'lost')} | | 0 |")
e_tcp, e_ws = median("echo100", "tcp", "round_trips_per_s"), median("echo100", "ws", "round_trips_per_s")
rows.append(f"| echo 100 conns 64 B, round trips/s | {fmt(e_tcp)} | {fmt(e_ws)} | {paired('echo100', 'round_trips_per_s')} | ≥ 0.9 |")
h_tcp, h_ws = median("hold", "tcp", "kb_per_conn"), median("hold", "ws", "kb_per_conn")
conns = runs.get(("hold", "ws"), [{}])[0].get("conns", "?")
rows.append(f"| idle participant, KB ({conns} held) | {fmt(h_tcp, 2)} | {fmt(h_ws, 2)} | {ratio(h_ws, h_tcp)} | WS ≤ 3 |")
rows += ["", "| permessage-deflate, idle connection (WebSocketEchoExample) | KB / conn | cost over none, KB |", "|---|---:|---:|"]
base = median("zlib_none", "ws", "kb_per_conn")
for name, label in (("none", "not agreed"), ("w15", "window bits 15 (default)"), ("w12", "window bits 12"), ("w9", "window bits 9")):
    value = median(f"zlib_{name}", "ws", "kb_per_conn")
    cost = None if value is None or base is None else value - base
    rows.append(f"| {label} | {fmt(value, 2)} | {fmt(cost, 2) if name != 'none' else ''} |")
rows += ["", "Medians over the rounds. " + "; ".join(notes)]
text = "\n".join(rows) + "\n"
open(out, "w").write(text)
print(text)
PY
log "done in $(($(date +%s) - started)) s; raw lines in $RAW, table in $OUT/ws_table.md"
