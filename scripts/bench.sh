#!/usr/bin/env bash
# UVLoop against raw C libuv, with chatbench: builds everything in release, then runs every
# measurement interleaved over ROUNDS rounds (default 3), each server started fresh for each
# measurement, and prints one table of medians with the ratio UVLoop / baseline for every figure.
#
#   bash scripts/bench.sh                 # the full run (about 10 minutes on 2 cores)
#   QUICK=1 ROUNDS=1 bash scripts/bench.sh   # a smoke test with small counts (about 1 minute)
#
# Servers compared (all on 127.0.0.1, ports PORT_BASE.. below the ephemeral range):
#   naive    Benchmarks/Baseline/chat_relay          one uv_write per recipient per line
#   batched  Benchmarks/Baseline/chat_relay_batched  one uv_write (writev) per recipient per loop
#                                                   iteration, as UVLoop does: the fair floor
#   uvloop   Examples/ChatExample --plain
#   echo: Benchmarks/Baseline/echo_server against Examples/EchoExample
#
# Output (OUT, default Benchmarks/results): raw.txt (one key=value line per run), machine.txt,
# table.md (the table, then every run), summary.json and fanout.png (throughput and p99 latency
# against connections); server and build logs go to .build-bench/bench-logs. Every run is bounded (chatbench --timeout, plus `timeout` around it) and every
# server this script starts is stopped by its PID, also on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
QUICK=${QUICK:-0}
OUT=${OUT:-$ROOT/Benchmarks/results}
SCRATCH=${SCRATCH:-$ROOT/.build-bench}
TOOLS=$SCRATCH/tools
LOGS=$SCRATCH/bench-logs
CHATBENCH_SRC=${CHATBENCH_SRC:-$ROOT/Benchmarks/chatbench}
PORT_BASE=${PORT_BASE:-20000}
HOST=127.0.0.1
started=$(date +%s)

log() { printf '%s [%4ds] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - started))" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Build: Swift servers in release (own scratch path), the C baselines and chatbench.
log "building (release, scratch $SCRATCH)"
mkdir -p "$TOOLS" "$LOGS" "$OUT"
# The servers are example programs, in the examples' package (Examples/Package.swift).
swift build -c release --package-path Examples --scratch-path "$SCRATCH" --product ChatExample >"$LOGS/build.log" 2>&1 ||
    { tail -30 "$LOGS/build.log"; exit 1; }
swift build -c release --package-path Examples --scratch-path "$SCRATCH" --product EchoExample >>"$LOGS/build.log" 2>&1 ||
    { tail -30 "$LOGS/build.log"; exit 1; }
BIN=$(swift build -c release --package-path Examples --scratch-path "$SCRATCH" --show-bin-path)
make -s -C Benchmarks/Baseline OUT="$TOOLS" >>"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log"; exit 1; }
make -s -C "$CHATBENCH_SRC" OUT="$TOOLS" >>"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log"; exit 1; }
CHATBENCH=$TOOLS/chatbench

if ! python3 -c 'import matplotlib' 2>/dev/null; then
    log "installing matplotlib for the plot (pip)"
    python3 -m pip install --quiet matplotlib >>"$LOGS/build.log" 2>&1 || log "matplotlib unavailable: no plot"
fi

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 19500 ]; then log "open-file limit $(ulimit -n) is below 19,500: hold 19,000 will fail"; fi

# ---------------------------------------------------------------------------------------------
# The measurements. Counts are sized so that each run lasts about 1-5 s; the naive relay is ~15x
# slower, so it sends fewer lines (rates and per-delivery figures do not depend on the count).
if [ "$QUICK" = 1 ]; then
    HOLD_CONNS=2000
    F100="--conns 100 --senders 10 --msgs 500"; F100_NAIVE="--conns 100 --senders 10 --msgs 100"
    F1K="--conns 1000 --senders 2 --msgs 300"; F1K_NAIVE="--conns 1000 --senders 2 --msgs 30"
    F10K="--conns 10000 --senders 1 --msgs 50"; F10K_NAIVE="--conns 10000 --senders 1 --msgs 10"
    P100="--conns 100 --senders 10 --rate 100 --msgs 100"
    P1K="--conns 1000 --senders 2 --rate 50 --msgs 50"
    P10K="--conns 10000 --senders 1 --rate 10 --msgs 10"
    ECHO_SECS=1
    ALLOC="--conns 100 --senders 10 --msgs 300"; ALLOC_NAIVE="--conns 100 --senders 10 --msgs 100"
else
    HOLD_CONNS=19000
    F100="--conns 100 --senders 10 --msgs 4000"; F100_NAIVE="--conns 100 --senders 10 --msgs 500"
    F1K="--conns 1000 --senders 2 --msgs 3000"; F1K_NAIVE="--conns 1000 --senders 2 --msgs 200"
    F10K="--conns 10000 --senders 1 --msgs 1000"; F10K_NAIVE="--conns 10000 --senders 1 --msgs 50"
    # Paced (open loop) at about 100,000 deliveries/s whatever the room size: latency at a fixed
    # load. The batched relay and UVLoop carry it at every size; the naive relay only at 100
    # connections (beyond that its latency is the queue it cannot drain).
    P100="--conns 100 --senders 10 --rate 100 --msgs 500"
    P1K="--conns 1000 --senders 2 --rate 50 --msgs 150"
    P10K="--conns 10000 --senders 1 --rate 10 --msgs 30"
    ECHO_SECS=3
    ALLOC="--conns 100 --senders 10 --msgs 1000"; ALLOC_NAIVE="--conns 100 --senders 10 --msgs 200"
fi

server_cmd() {
    case $1 in
    naive) echo "$TOOLS/chat_relay" ;;
    batched) echo "$TOOLS/chat_relay_batched" ;;
    uvloop) echo "$BIN/ChatExample --plain" ;;
    echo_c) echo "$TOOLS/echo_server" ;;
    echo_uvloop) echo "$BIN/EchoExample" ;;
    esac
}

SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# True once 127.0.0.1:$1 is in LISTEN state (read from /proc: probing it would add a client).
is_listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# start_server NAME PORT [ENV...]: starts it in the background, waits until it listens.
start_server() {
    local name=$1 port=$2
    shift 2
    # shellcheck disable=SC2046
    env "$@" $(server_cmd "$name") --host "$HOST" --port "$port" >"$LOGS/$name-$port.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do
        is_listening "$port" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { log "$name exited at start:"; tail -5 "$LOGS/$name-$port.log" >&2; return 1; }
        sleep 0.05
    done
    log "$name did not listen on $port within 10 s"
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
read_counter() { python3 -c 'import struct,sys; print(struct.unpack("<Q", open(sys.argv[1], "rb").read(8))[0])' "$1"; }

NEXT_PORT=$PORT_BASE
RAW=$OUT/raw.txt
: >"$RAW"

# measure ROUND TEST SERVER MODE ARGS [malloc]: one fresh server, one chatbench run, one raw line.
measure() {
    local round=$1 test=$2 server=$3 mode=$4 args=$5 count_mallocs=${6:-}
    local port=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
    local env=() counter=
    if [ -n "$count_mallocs" ]; then
        counter=$LOGS/mallocs-$port
        env=(MALLOC_COUNT_FILE="$counter" LD_PRELOAD="$TOOLS/malloc_count.so")
    fi
    if ! start_server "$server" "$port" "${env[@]}"; then
        echo "round=$round test=$test server=$server error=server_start" >>"$RAW"
        stop_server
        return 0
    fi
    local pidargs=() limit=150
    [ "$mode" = hold ] && pidargs=(--pid "$SERVER_PID")
    local m0=0 t0 line status=0
    [ -n "$counter" ] && m0=$(read_counter "$counter")
    t0=$(cpu_ticks "$SERVER_PID")
    # shellcheck disable=SC2086
    line=$(timeout "$limit" "$CHATBENCH" "$mode" --host "$HOST" --port "$port" $args "${pidargs[@]}" \
        2>>"$LOGS/chatbench.log" | tail -1) || status=$?
    local t1 cpu m1=0
    t1=$(cpu_ticks "$SERVER_PID")
    [ -n "$counter" ] && m1=$(read_counter "$counter")
    cpu=$(awk -v a="$t0" -v b="$t1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / h }')
    kill -0 "$SERVER_PID" 2>/dev/null || line="$line server_died=1"
    stop_server
    [ -n "$line" ] || line="error=no_output"
    local extra="server_cpu_s=$cpu exit=$status"
    [ -n "$counter" ] && extra="$extra mallocs=$((m1 - m0))"
    echo "round=$round test=$test server=$server port=$port $extra $line" >>"$RAW"
    log "r$round $test $server: $(echo "$line" | grep -oE '(deliveries_per_s|p99_us|kb_per_conn|round_trips_per_s|lost)=[^ ]*' | tr '\n' ' ')cpu=${cpu}s${counter:+ mallocs=$((m1 - m0))}"
}

# Each round runs every measurement once per server; the server order rotates between rounds.
CHAT_SERVERS=(naive batched uvloop)
rotate() { # rotate ROUND ITEMS...: the items, rotated left by ROUND-1
    local k=$(($1 - 1))
    shift
    local items=("$@") n=$#
    for ((i = 0; i < n; i++)); do echo "${items[$(((i + k) % n))]}"; done
}

args_for() { # args_for SERVER FAST NAIVE
    if [ "$1" = naive ]; then echo "$3"; else echo "$2"; fi
}

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    log "== round $round of $ROUNDS"
    mapfile -t servers < <(rotate "$round" "${CHAT_SERVERS[@]}")
    for s in "${servers[@]}"; do measure "$round" hold "$s" hold "--conns $HOLD_CONNS"; done
    for s in "${servers[@]}"; do measure "$round" fanout100 "$s" fanout "$(args_for "$s" "$F100" "$F100_NAIVE") --timeout 60"; done
    for s in "${servers[@]}"; do measure "$round" fanout1000 "$s" fanout "$(args_for "$s" "$F1K" "$F1K_NAIVE") --timeout 60"; done
    for s in "${servers[@]}"; do measure "$round" fanout10000 "$s" fanout "$(args_for "$s" "$F10K" "$F10K_NAIVE") --timeout 60"; done
    for s in "${servers[@]}"; do measure "$round" paced100 "$s" fanout "$P100 --timeout 60"; done
    for s in "${servers[@]}"; do measure "$round" paced1000 "$s" fanout "$P1K --timeout 60"; done
    for s in "${servers[@]}"; do measure "$round" paced10000 "$s" fanout "$P10K --timeout 60"; done
    mapfile -t echoes < <(rotate "$round" echo_c echo_uvloop)
    for s in "${echoes[@]}"; do measure "$round" echo100 "$s" echo "--conns 100 --secs $ECHO_SECS --size 64"; done
    for s in "${servers[@]}"; do measure "$round" allocs100 "$s" fanout "$(args_for "$s" "$ALLOC" "$ALLOC_NAIVE") --timeout 60" malloc; done
done

[ "$QUICK" = 1 ] || ROUNDS=$ROUNDS OUT=$OUT HOLD_CONNS=0 bash scripts/bench_fanout.sh "$TOOLS" "uvloop=$BIN/ChatExample --plain" >"$OUT/fanout-pinned.md"  # pinned cores, ratios to C
# HTTP against nginx, h2o and Hummingbird (its own script; raw lines in $OUT/http_raw.txt).
swift build -c release --package-path Examples --scratch-path "$SCRATCH" --product HTTPExample >>"$LOGS/build.log" 2>&1 && OUT="$OUT" bash "$ROOT/scripts/bench_http.sh" "$BIN" | tee "$OUT/http.txt"
[ "$QUICK" = 1 ] || for s in "$BIN/HTTPExample" nginx h2o; do TOOLS="$TOOLS" bash scripts/callgrind_http.sh "$s" 2>/dev/null || log "callgrind_http.sh $s failed"; done >"$OUT/http-callgrind.txt"  # instructions/request

OUT="$OUT" ROUNDS="$ROUNDS" bash "$ROOT/scripts/bench_tls.sh" "$BIN" >"$OUT/tls-table.md" || log "bench_tls.sh failed"
[ "$QUICK" = 1 ] || bash "$ROOT/scripts/callgrind_tls.sh" "$BIN" >"$OUT/tls-callgrind.txt" || log "callgrind_tls.sh failed"  # instructions per TLS echo / delivery, vs C
# ---------------------------------------------------------------------------------------------
# The report: medians, ratios, the plot.
{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cores=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "kernel=$(uname -r)"
    echo "libuv=$(pkg-config --modversion libuv)"
    echo "swift=$(swift --version 2>/dev/null | head -1)"
    # BENCH_COMMIT names the sources when they are not a git checkout (e.g. a `git archive` copy).
    echo "commit=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Examples 2>/dev/null || echo '+uncommitted')}"
    echo "rounds=$ROUNDS"
    echo "quick=$QUICK"
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "elapsed_s=$(($(date +%s) - started))"
} >"$OUT/machine.txt"
ROUNDS=$ROUNDS PER_SERVER=$([ "$QUICK" = 1 ] && echo 2000 || echo 16667) bash "$ROOT/scripts/bench_federation_scale.sh" "$BIN" "$CHATBENCH" "$OUT"  # 100,000 in one room over 6 federated processes
ROUNDS=$ROUNDS MSGS=$([ "$QUICK" = 1 ] && echo 100 || echo 500) bash "$ROOT/scripts/bench_federation_fanout.sh" "$BIN" "$CHATBENCH" "$OUT"  # 3 federated processes against 1
LOW=100 HIGH=$([ "$QUICK" = 1 ] && echo 200 || echo 300) bash "$ROOT/scripts/callgrind_federation.sh" "$TOOLS" "$BIN" >"$OUT/callgrind_federation.txt" 2>>"$LOGS/callgrind_federation.log" || log "callgrind_federation.sh failed (valgrind missing?)"  # instructions per delivery, 3 federated processes against 1
python3 "$ROOT/scripts/bench_report.py" --raw "$RAW" --machine "$OUT/machine.txt" --out "$OUT"
swift build -c release --package-path Examples --scratch-path "$SCRATCH" --product WebSocketEchoExample >>"$LOGS/build.log" 2>&1 && OUT="$OUT" ROUNDS="$ROUNDS" QUICK="$QUICK" bash "$ROOT/scripts/bench_ws.sh" "$BIN" "$CHATBENCH"
log "done in $(($(date +%s) - started)) s; results in $OUT"
