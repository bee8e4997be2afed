#!/usr/bin/env bash
# Chat fan-out: servers against the batched C relay (Benchmarks/Baseline/chat_relay_batched, the
# floor), in interleaved rounds, each server fresh for each run, pinned to core 0 and chatbench
# to core 1. Prints the medians of deliveries/s (and of each round's own ratio to C), server CPU
# per delivery and (HOLD_CONNS) memory per idle connection, with each server's ratio to the C relay.
#
#   scripts/bench_fanout.sh TOOLS "LABEL=COMMAND" ...
#   scripts/bench_fanout.sh .build/tools "uvloop=Examples/.build/release/ChatExample --plain"
#   scripts/bench_fanout.sh .build/tools "before=/tmp/old/ChatExample --plain" "after=Examples/.build/release/ChatExample --plain"
#
# TOOLS holds chatbench and chat_relay_batched (make -C Benchmarks/chatbench OUT=TOOLS; make -C
# Benchmarks/Baseline OUT=TOOLS). COMMAND gets --host and --port appended.
# Environment: ROUNDS (3), TESTS ("fanout100 fanout1000 hold"), HOLD_CONNS (19000; 0 skips the
# memory test), PORT_BASE (20500),
# OUT (Benchmarks/results: fanout-raw.txt gets one line per run). Loopback only; every run is
# bounded (chatbench --timeout and `timeout`), every server is stopped by its PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
tools=${1:?usage: bench_fanout.sh TOOLS "LABEL=COMMAND" ...}
shift
rounds=${ROUNDS:-3}
hold_conns=${HOLD_CONNS:-19000}
port=${PORT_BASE:-20500}
out=${OUT:-$ROOT/Benchmarks/results}
raw=$out/fanout-raw.txt
mkdir -p "$out"
: >"$raw"
ulimit -n "$(ulimit -Hn)"

labels=(c)
commands=("$tools/chat_relay_batched")
for spec in "$@"; do
    labels+=("${spec%%=*}")
    commands+=("${spec#*=}")
done
read -r -a tests <<<"${TESTS:-fanout100 fanout1000 hold}"
[ "$hold_conns" -gt 0 ] || tests=("${tests[@]/hold/}")
args_for() {
    case $1 in
    fanout100) echo "fanout --conns 100 --senders 10 --msgs 2000 --timeout 60" ;;
    fanout1000) echo "fanout --conns 1000 --senders 2 --msgs 1000 --timeout 60" ;;
    hold) echo "hold --conns $hold_conns" ;;
    esac
}

pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; true' EXIT
is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run ROUND TEST INDEX: one fresh server, one chatbench run, one raw line.
run() {
    local round=$1 test=$2 i=$3 log
    port=$((port + 1))
    log=$(mktemp)
    # shellcheck disable=SC2086
    taskset -c 0 ${commands[$i]} --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do is_listening "$port" && break; sleep 0.05; done
    local extra=() t0 line t1
    [ "$test" = hold ] && extra=(--pid "$pid")
    t0=$(ticks "$pid")
    # shellcheck disable=SC2046
    line=$(timeout 400 taskset -c 1 "$tools/chatbench" $(args_for "$test") --port "$port" "${extra[@]}" 2>/dev/null |
        tail -1) || true
    t1=$(ticks "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    rm -f "$log"
    echo "round=$round test=$test server=${labels[$i]} cpu_ticks=$((t1 - t0)) $line" >>"$raw"
    echo "r$round $test ${labels[$i]}: $(echo "$line" | grep -oE '(deliveries_per_s|kb_per_conn|lost)=[^ ]*' | tr '\n' ' ')ticks=$((t1 - t0))" >&2
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
n=${#labels[@]}
for round in $(seq "$rounds"); do
    for test in "${tests[@]}"; do
        [ -n "$test" ] || continue
        for ((k = 0; k < n; k++)); do run "$round" "$test" $(((k + round - 1) % n)); done
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$raw" "$(getconf CLK_TCK)" "${labels[@]}" <<'EOF'
import re, statistics, sys
raw, hz, labels = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {}
for line in open(raw):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    runs.setdefault((kv['test'], kv['server']), []).append(kv)
def med(test, server, f):
    vals = [v for v in (f(kv) for kv in runs.get((test, server), [])) if v is not None]
    return statistics.median(vals) if vals else None
rate = lambda kv: float(kv['deliveries_per_s']) if 'deliveries_per_s' in kv else None
ns = lambda kv: int(kv['cpu_ticks']) / hz * 1e9 / int(kv['received']) if int(kv.get('received', 0)) > 0 else None
kb = lambda kv: float(kv['kb_per_conn']) if 'kb_per_conn' in kv else None
fmt = lambda v, spec: '-' if v is None else format(v, spec)
def per_round(test, server, f):
    # The median of each round's own ratio: on a machine whose speed drifts between rounds
    # it can differ from the ratio of the medians (both are printed).
    c = {kv['round']: f(kv) for kv in runs.get((test, 'c'), [])}
    ratios = [f(kv) / c[kv['round']] for kv in runs.get((test, server), []) if f(kv) and c.get(kv['round'])]
    return statistics.median(ratios) if ratios else None
print('| test | server | deliveries/s (M) | ×C | ×C per round | CPU ns/delivery | ×C | KB/conn |')
print('|---|---|---|---|---|---|---|---|')
for test in ('fanout100', 'fanout1000', 'hold'):
    c_rate, c_ns = med(test, 'c', rate), med(test, 'c', ns)
    for s in labels:
        if (test, s) not in runs: continue
        r, n, k = med(test, s, rate), med(test, s, ns), med(test, s, kb)
        rr = r / c_rate if r and c_rate else None
        nr = n / c_ns if n and c_ns else None
        pr = per_round(test, s, rate)
        print(f'| {test} | {s} | {fmt(r and r / 1e6, ".2f")} | {fmt(rr, ".2f")} | {fmt(pr, ".2f")} | {fmt(n, ".0f")} | {fmt(nr, ".2f")} | {fmt(k, ".2f")} |')
EOF
