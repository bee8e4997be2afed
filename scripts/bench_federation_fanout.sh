#!/usr/bin/env bash
# Fan-out across 3 federated ChatExample processes against one process holding the same room,
# in the same run, interleaved: closed-loop deliveries/s (300 connections, 10 senders) and paced
# p99 latency, nothing lost.
#
#   bash scripts/bench_federation_fanout.sh BIN_DIR CHATBENCH [OUT_DIR]
#   ROUNDS=5 MSGS=2000 MODE=--plain bash scripts/bench_federation_fanout.sh Examples/.build/release .build/tools/chatbench
#
# Each round, in alternating order, each configuration with fresh processes and a fresh
# redis-server (scripts/redis_server.sh, loopback, free port):
#   one    one `ChatExample` holding all 300, not federated (the issue's reference)
#   three  three `ChatExample --redis` on three ports, `chatbench --port P1,P2,P3` (100 each)
# runs `chatbench fanout --conns 300 --senders 10 --msgs MSGS` (closed loop) and
# `fanout --conns 300 --senders 10 --rate 30 --msgs 150` (paced, ~90,000 deliveries/s).
# TASKSET=1 (default): servers and redis-server on core 0, chatbench on core 1.
# Prints medians and the ratios three / one; raw lines in OUT_DIR/federation_fanout.txt. Each
# line also gives the CPU time of the servers and redis-server per delivery (user + system, from
# /proc/PID/task/*/schedstat) and the deliveries per write system call of the servers
# (/proc/PID/io syscw): less dependent on the machine's load than deliveries/s.
# Bounded (chatbench --timeout 60 inside `timeout 120`); every process it starts is stopped by PID.
set -euo pipefail

BIN=${1:?usage: bench_federation_fanout.sh BIN_DIR CHATBENCH [OUT_DIR]}
CHATBENCH=${2:?usage: bench_federation_fanout.sh BIN_DIR CHATBENCH [OUT_DIR]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${3:-$ROOT/Benchmarks/results}
ROUNDS=${ROUNDS:-3}
# 2,000 lines a sender: a closed-loop run then lasts about 1 s. With 500 (0.2-0.4 s) the rounds'
# ratios ranged 0.47-0.78 on a quiet machine; with 2,000, 0.60-0.74 (PERFORMANCE.md, session 6).
MSGS=${MSGS:-2000}
MODE=${MODE:---plain}
TASKSET=${TASKSET:-1}
PORT_BASE=${PORT_BASE:-21200}
WORK=$(mktemp -d /tmp/bench_federation_fanout.XXXXXX)
RAW=$OUT/federation_fanout.txt
mkdir -p "$OUT"
log() { echo "[fed-fanout $(date +%H:%M:%S)] $*" >&2; }
[ -x "$BIN/ChatExample" ] && [ -x "$CHATBENCH" ] || { log "need $BIN/ChatExample and $CHATBENCH"; exit 2; }

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    bash "$ROOT/scripts/redis_server.sh" stop "$WORK/redis" >/dev/null 2>&1 || true
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
server_core=() client_core=()
if [ "$TASKSET" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    server_core=(taskset -c 0) client_core=(taskset -c 1)
fi
mode_args=(--flood-rate 0)
[ "$MODE" = --plain ] && mode_args=(--plain)
cpu_ns() { local t=0 pid f; for pid in "$@"; do for f in /proc/"$pid"/task/*/schedstat; do t=$((t + $(cut -d' ' -f1 "$f" 2>/dev/null || echo 0))); done; done; echo "$t"; }
write_calls() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '/^syscw/ { print $2 }' "/proc/$pid/io"))); done; echo "$t"; }
is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# run ROUND CONFIG TEST ARGS: fresh redis and servers, one chatbench line into RAW.
run() {
    local round=$1 config=$2 test=$3 args=$4 n=1
    [ "$config" = three ] && n=3
    local redis_port
    redis_port=$("${server_core[@]}" bash "$ROOT/scripts/redis_server.sh" start "$WORK/redis")
    local ports=() federate=()
    for k in $(seq "$n"); do
        local port=$((PORT_BASE + k - 1))
        [ "$n" -gt 1 ] && federate=(--redis "redis://127.0.0.1:$redis_port" --node "n$k")
        "${server_core[@]}" "$BIN/ChatExample" "${mode_args[@]}" --host 127.0.0.1 --port "$port" \
            "${federate[@]}" --log-level warning \
            >"$WORK/server-$k.log" 2>&1 &
        PIDS+=($!) ports+=("$port")
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 200); do is_listening "$port" && break; sleep 0.05; done
    done
    local blocked=0
    for _ in $([ "$n" -gt 1 ] && seq 200); do # federated: each server's XREAD is blocked in redis
        blocked=$(redis-cli -p "$redis_port" info clients | awk -F: '/^blocked_clients/ { print $2 + 0 }')
        [ "$blocked" -ge "$n" ] && break
        sleep 0.05
    done
    local watched=("${PIDS[@]}")
    [ "$n" -gt 1 ] && watched+=("$(cat "$WORK/redis/redis.pid")")
    local cpu0 writes0
    cpu0=$(cpu_ns "${watched[@]}") writes0=$(write_calls "${PIDS[@]}")
    local line status=0
    # shellcheck disable=SC2086
    line=$("${client_core[@]}" timeout 120 "$CHATBENCH" fanout --port "$(IFS=,; echo "${ports[*]}")" $args --timeout 60 \
        2>>"$WORK/chatbench.err" | tail -1) || status=$?
    local cpu1 writes1 received
    cpu1=$(cpu_ns "${watched[@]}") writes1=$(write_calls "${PIDS[@]}")
    received=$(echo "$line" | sed -n 's/.* received=\([0-9]*\).*/\1/p')
    local per
    per=$(awk -v c=$((cpu1 - cpu0)) -v w=$((writes1 - writes0)) -v r="${received:-0}" \
        'BEGIN { if (r > 0) printf "cpu_ns_per_delivery=%.1f deliveries_per_write=%.1f", c / r, (w > 0 ? r / w : 0) }')
    echo "round=$round config=$config test=$test exit=$status load=$(cut -d' ' -f1 /proc/loadavg) $per $line" | tee -a "$RAW" >&2
    cleanup
}

: >"$RAW"
log "mode ${MODE}, $ROUNDS round(s), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    order=(one three)
    [ $((round % 2)) = 0 ] && order=(three one)
    for config in "${order[@]}"; do run "$round" "$config" closed "--conns 300 --senders 10 --msgs $MSGS"; done
    for config in "${order[@]}"; do run "$round" "$config" paced "--conns 300 --senders 10 --rate 30 --msgs 150"; done
done

python3 - "$RAW" <<'EOF'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split() if "=" in kv) for line in open(sys.argv[1]) if line.strip()]
def med(config, test, key):
    values = [float(r[key]) for r in rows if r["config"] == config and r["test"] == test and key in r]
    return statistics.median(values) if values else float("nan")
lost = sum(int(r.get("lost", "1")) + int(r.get("duplicates", "0")) + int(r.get("gaps", "0")) for r in rows)
one, three = med("one", "closed", "deliveries_per_s"), med("three", "closed", "deliveries_per_s")
p_one, p_three = med("one", "paced", "p99_us"), med("three", "paced", "p99_us")
print(f"| figure (median of {len(rows) // 4} rounds) | one process | three processes | three / one | goal |")
print("|---|---|---|---|---|")
print(f"| closed loop 300x10: deliveries/s | {one / 1e6:.2f} M | {three / 1e6:.2f} M | {three / one:.2f} | >= 0.6 |")
print(f"| paced 300x10 @ 30/s each: p99 ms | {p_one / 1000:.1f} | {p_three / 1000:.1f} | +{(p_three - p_one) / 1000:.1f} ms | <= +2 ms |")
c_one, c_three = med("one", "closed", "cpu_ns_per_delivery"), med("three", "closed", "cpu_ns_per_delivery")
w_one, w_three = med("one", "closed", "deliveries_per_write"), med("three", "closed", "deliveries_per_write")
print(f"| closed loop: CPU ns per delivery (servers + redis) | {c_one:.0f} | {c_three:.0f} | {c_three / c_one:.2f} | |")
print(f"| closed loop: deliveries per write call (servers) | {w_one:.1f} | {w_three:.1f} | | |")
print(f"| lost + duplicated + out of order, all runs | | | {lost} | 0 |")
EOF
