#!/usr/bin/env bash
# User-space instructions (callgrind) per TLS echo round trip and per TLS fan-out delivery, for
# UVLoop's servers and the raw C baselines (Benchmarks/Baseline/tls_*.c) on the same OpenSSL:
# counts that do not depend on the machine's load, for development decisions.
#
#   bash scripts/callgrind_tls.sh [BIN_DIR]      # BIN_DIR: the release EchoExample and ChatExample
#
# echo:   the server runs under callgrind with instrumentation off; chatbench echo --tls (CONNS
#         connections, 64-byte messages) runs SECS s; instrumentation is on from ON s to ON+WIN s
#         (after the handshakes), and the window's instructions are divided by its SSL_write calls
#         (one per echoed message in both servers).
# fanout: the server runs under callgrind twice, chatbench fanout --tls (100 participants, 10
#         senders) with LOW then HIGH lines per sender; the difference in instructions is divided
#         by the difference in deliveries, so start-up, handshakes and shutdown cancel out.
# Environment: CONNS (100), SECS (25), ON (10), WIN (10), LOW (50), HIGH (150), PORT (23400),
# KEEP (a folder to keep the callgrind.out files in, for callgrind_annotate). Loopback only;
# every run is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-$ROOT/Examples/.build/release}" && pwd)
CONNS=${CONNS:-100}
SECS=${SECS:-25}
ON=${ON:-10}
WIN=${WIN:-10}
LOW=${LOW:-50}
HIGH=${HIGH:-150}
PORT=${PORT:-23400}
KEEP=${KEEP:-}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
make -s -C "$ROOT/Benchmarks/Baseline" OUT="$work" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
make -s -C "$ROOT/Benchmarks/chatbench" OUT="$work" >>"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
ulimit -n 20000

# calls OUT REGEX: the number of calls to functions whose name matches REGEX in a callgrind file.
calls() {
    python3 - "$1" "$2" <<'PY'
import re, sys
names, calls, current = {}, 0, None
pattern = re.compile(sys.argv[2])
for line in open(sys.argv[1]):
    m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line.strip())
    if m:
        if m.group(2): names[m.group(1)] = m.group(2)
        current = names.get(m.group(1), "") if line.startswith("cfn=") else None
    elif line.startswith("calls=") and current is not None:
        if pattern.fullmatch(current): calls += int(line.split()[0][6:])
        current = None
print(calls)
PY
}
total() { awk '/^(summary|totals):/ { if ($2 > 0) n = $2 } END { print n + 0 }' "$1"; }
wait_listening() {
    for _ in $(seq 600); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.1; done
    echo "server on port $1 did not listen" >&2
    exit 1
}
port() { PORT=$((PORT + 1)); }

# echo NAME COMMAND...: prints instructions per round trip.
echo_run() {
    local name=$1 out=$work/echo.$1.out
    shift
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    wait_listening "$PORT"
    timeout $((SECS + 60)) "$work/chatbench" echo --tls --host 127.0.0.1 --port "$PORT" --conns "$CONNS" \
        --secs "$SECS" --size 64 >"$work/$name.bench" 2>&1 &
    local bench=$!
    sleep "$ON"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    sleep "$WIN"
    callgrind_control -i off "$pid" >/dev/null 2>&1
    wait "$bench" || true
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    [ -n "$KEEP" ] && mkdir -p "$KEEP" && cp "$out" "$KEEP/"
    local n
    n=$(calls "$out" 'SSL_write(_ex)?')
    [ "$n" -gt 0 ] || { echo "echo $name: no round trips measured" >&2; exit 1; }
    echo "callgrind_tls test=echo100 server=$name round_trips=$n instructions_per_round_trip=$(($(total "$out") / n))"
}

# fanout_once MSGS NAME COMMAND...: prints "instructions deliveries".
fanout_once() {
    local msgs=$1 name=$2 out=$work/fanout.$2.$1.out line
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    wait_listening "$PORT"
    line=$(timeout 600 "$work/chatbench" fanout --tls --host 127.0.0.1 --port "$PORT" --conns 100 --senders 10 \
        --msgs "$msgs" --timeout 500 2>/dev/null | tail -1) || true
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    [ -n "$KEEP" ] && mkdir -p "$KEEP" && cp "$out" "$KEEP/"
    echo "$(total "$out") $(echo "$line" | grep -oE 'received=[0-9]+' | cut -d= -f2)"
}

# fanout NAME COMMAND-WITH-@PORT@...: prints instructions per delivery.
fanout_run() {
    local name=$1 ir1 d1 ir2 d2
    shift
    port
    read -r ir1 d1 < <(fanout_once "$LOW" "$name" "${@//@PORT@/$PORT}")
    port
    read -r ir2 d2 < <(fanout_once "$HIGH" "$name" "${@//@PORT@/$PORT}")
    [ "${d2:-0}" -gt "${d1:-0}" ] || { echo "fanout $name: no extra deliveries (${d1:-0}, then ${d2:-0})" >&2; exit 1; }
    echo "callgrind_tls test=fanout100 server=$name deliveries=$((d2 - d1)) instructions_per_delivery=$(((ir2 - ir1) / (d2 - d1)))"
}

port
echo_run c "$work/tls_echo_server" --host 127.0.0.1 --port "$PORT" --cert "$work/cert.pem" --key "$work/key.pem"
port
echo_run uvloop "$BIN/EchoExample" --host 127.0.0.1 --port "$PORT" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
fanout_run c "$work/tls_chat_relay" --host 127.0.0.1 --port @PORT@ --cert "$work/cert.pem" --key "$work/key.pem"
fanout_run uvloop "$BIN/ChatExample" --host 127.0.0.1 --port 0 --tls-port @PORT@ --tls-cert "$work/cert.pem" \
    --tls-key "$work/key.pem" --flood-rate 0 --log-level error
