#!/usr/bin/env bash
# TLS benchmark: UVLoop's TLS servers against the raw C baselines (libuv + OpenSSL over memory
# BIOs, Benchmarks/Baseline/tls_*.c) on the same OpenSSL, driven by chatbench --tls.
#
#   bash scripts/bench_tls.sh [BIN_DIR]          # BIN_DIR: the release EchoExample and ChatExample
#   ROUNDS=5 bash scripts/bench_tls.sh Examples/.build/release
#
# Measurements (each server started fresh for each one, pinned to core 0; chatbench on core 1;
# rounds interleaved, the order of the two servers alternating between rounds):
#   handshake  full TLS 1.3 handshakes per second, 50 clients reconnecting for SECS s (no tickets
#              or resumption on the client: every handshake is a full one) — tls_echo_server
#              against EchoExample --tls-cert
#   echo100    round trips per second, 100 TLS connections, 64-byte messages, SECS s — same servers
#   fanout100  deliveries per second, 100 TLS participants, 10 senders — tls_chat_relay against
#              ChatExample --tls-port (chat mode, flood limit off)
#   idle       KB of server RSS per idle TLS connection after its handshake (IDLE connections)
# Prints the medians and the ratio UVLoop / C for each; raw lines go to OUT/tls-raw.txt
# (OUT defaults to Benchmarks/results). Every run is bounded (chatbench --timeout and `timeout`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$ROOT/Examples/.build/release}" && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-4}
MSGS=${MSGS:-500}
IDLE=${IDLE:-2000}
OUT=${OUT:-$ROOT/Benchmarks/results}
PORT_BASE=${PORT_BASE:-21000}
HOST=127.0.0.1
for b in EchoExample ChatExample; do
    [ -x "$BIN/$b" ] || { echo "no $BIN/$b: swift build -c release --package-path Examples --product $b" >&2; exit 2; }
done
work=$(mktemp -d)
TOOLS=$work/tools
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s -C Benchmarks/Baseline OUT="$TOOLS" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
make -s -C Benchmarks/chatbench OUT="$TOOLS" >>"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
CERT=$work/cert.pem
KEY=$work/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -days 1 -keyout "$KEY" -out "$CERT" 2>/dev/null
ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"
RAW=$OUT/tls-raw.txt
: >"$RAW"

server_cmd() { # server_cmd NAME PORT
    case $1 in
    echo_c) echo "$TOOLS/tls_echo_server --host $HOST --port $2 --cert $CERT --key $KEY" ;;
    echo_uvloop) echo "$BIN/EchoExample --host $HOST --port $2 --tls-cert $CERT --tls-key $KEY" ;;
    chat_c) echo "$TOOLS/tls_chat_relay --host $HOST --port $2 --cert $CERT --key $KEY" ;;
    # The plaintext port is unused (0: any free one); the flood limit would drop the load.
    chat_uvloop) echo "$BIN/ChatExample --host $HOST --port 0 --tls-port $2 --tls-cert $CERT --tls-key $KEY --flood-rate 0 --log-level error" ;;
    esac
}

# ss filters in the kernel (/proc/net/tcp would list every TIME_WAIT socket of earlier runs).
is_listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

NEXT_PORT=$PORT_BASE
# measure ROUND TEST SERVER MODE ARGS: one fresh server on core 0, one chatbench run on core 1.
measure() {
    local round=$1 test=$2 server=$3 mode=$4 args=$5 port=$NEXT_PORT line status=0
    NEXT_PORT=$((NEXT_PORT + 1))
    # shellcheck disable=SC2046
    taskset -c 0 $(server_cmd "$server" "$port") >"$work/$server-$port.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 200); do is_listening "$port" && break; sleep 0.05; done
    local pidargs=()
    [ "$mode" = hold ] && pidargs=(--pid "$SERVER_PID")
    # shellcheck disable=SC2086
    line=$(timeout 120 taskset -c 1 "$TOOLS/chatbench" "$mode" --tls --host "$HOST" --port "$port" $args \
        "${pidargs[@]}" 2>>"$work/chatbench.log" | tail -1) || status=$?
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    echo "round=$round test=$test server=$server exit=$status ${line:-error=no_output}" | tee -a "$RAW" >&2
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order=(c uvloop); else order=(uvloop c); fi
    for s in "${order[@]}"; do measure "$round" handshake "echo_$s" handshake "--conns 50 --secs $SECS --tls-max 1.3"; done
    for s in "${order[@]}"; do measure "$round" echo100 "echo_$s" echo "--conns 100 --secs $SECS --size 64"; done
    for s in "${order[@]}"; do measure "$round" fanout100 "chat_$s" fanout "--conns 100 --senders 10 --msgs $MSGS --timeout 60"; done
    for s in "${order[@]}"; do measure "$round" idle "echo_$s" hold "--conns $IDLE --hold-s 1"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$RAW" <<'PY'
import statistics, sys
keys = {"handshake": "handshakes_per_s", "echo100": "round_trips_per_s", "fanout100": "deliveries_per_s", "idle": "kb_per_conn"}
runs = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    key = keys.get(f.get("test"))
    if key and key in f:
        runs.setdefault((f["test"], f["server"].split("_")[1]), []).append(float(f[key]))
print("| TLS measurement | C baseline | UVLoop | UVLoop / C |")
print("|---|---:|---:|---:|")
for test, key in keys.items():
    c, u = runs.get((test, "c")), runs.get((test, "uvloop"))
    if not c or not u:
        print(f"| {test} ({key}) | {'missing' if not c else ''} | {'missing' if not u else ''} | |")
        continue
    mc, mu = statistics.median(c), statistics.median(u)
    print(f"| {test} ({key}, median of {len(c)}) | {mc:,.2f} | {mu:,.2f} | {mu / mc:.2f} |")
PY
