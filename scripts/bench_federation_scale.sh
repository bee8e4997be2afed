#!/usr/bin/env bash
# 100,000 participants in one room federated over SERVERS ChatExample processes through one
# redis-server, and ONE line reaching every one of them: server memory per participant and the
# time until the last participant has the line.
#
#   bash scripts/bench_federation_scale.sh BIN_DIR CHATBENCH [OUT_DIR]
#   ROUNDS=3 SERVERS=6 PER_SERVER=16667 MODE=--plain bash scripts/bench_federation_scale.sh \
#       Examples/.build/release .build/tools/chatbench
#
# Each round, fresh: a redis-server on a free loopback port (scripts/redis_server.sh), SERVERS
# `ChatExample --redis ... --node nK` on ports PORT_BASE.. (127.0.0.1), then one
# `chatbench listen --conns PER_SERVER --pid PID` per server (SERVERS load-generator processes,
# each under the 20,000-file limit, each to its own server so a (source, destination) pair needs
# at most PER_SERVER ephemeral ports). Once every listener has printed `ready` (its server
# accepted all its connections), the servers' RSS is read, and one `chatbench send` to server 1
# sends one line: server 1 delivers it to its participants and appends it to the stream, the
# others read it and deliver it to theirs. Every listener waits until each of its connections
# has the line; the slowest listener's `max_us` is the time until the last participant had it.
# Each listener keeps its connections open 5 s after it has the line (`--linger 5`): a listener
# closing 16,667 connections at once kept its server busy while the others still waited.
#   memory per participant = sum over servers of (RSS with everyone - RSS federated, empty) / N
# (user-space memory only, as `chatbench hold`; the redis-server's RSS is reported separately).
# MODE: `--plain` (default; the seed's protocol) or `default` (chat mode: names, presence).
# TASKSET=1 (default) pins the servers and redis-server to core 0 and the listeners to core 1.
# TASKSET=0 pins nothing: servers, redis-server and listeners share the whole machine (the
# issue's figure for the machine as a whole; needs a quiet machine to mean anything).
# Bounded: every chatbench has --timeout and `timeout` around it; every process this script
# starts is stopped by its PID on exit, also on Ctrl-C. Loopback only.
# TRACE=1 runs each server under `strace -f --seccomp-bpf -ttt -e trace=read,epoll_wait,epoll_pwait`
# (only those calls stop the server; its 100,000 writes run untraced) and prints, per round, a
# timeline from the send: when each server read the line or the stream entry, when its fan-out
# ended (its next epoll wait), and when its listener's first and last participant had the line.
# Raw lines: OUT_DIR/federation_scale.txt (default Benchmarks/results).
set -euo pipefail

BIN=${1:?usage: bench_federation_scale.sh BIN_DIR CHATBENCH [OUT_DIR]}
CHATBENCH=${2:?usage: bench_federation_scale.sh BIN_DIR CHATBENCH [OUT_DIR]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${3:-$ROOT/Benchmarks/results}
ROUNDS=${ROUNDS:-3}
SERVERS=${SERVERS:-6}
PER_SERVER=${PER_SERVER:-16667}
MODE=${MODE:---plain}
TASKSET=${TASKSET:-1}
TRACE=${TRACE:-0}
PORT_BASE=${PORT_BASE:-21100}
WORK=$(mktemp -d /tmp/bench_federation_scale.XXXXXX)
RAW=$OUT/federation_scale.txt
mkdir -p "$OUT"

log() { echo "[fed-scale $(date +%H:%M:%S)] $*" >&2; }
[ -x "$BIN/ChatExample" ] || { log "no $BIN/ChatExample (swift build -c release --package-path Examples --product ChatExample)"; exit 2; }
[ -x "$CHATBENCH" ] || { log "no chatbench at $CHATBENCH (make -C Benchmarks/chatbench OUT=...)"; exit 2; }
command -v redis-server >/dev/null || { log "redis-server is missing (scripts/setup.sh installs it)"; exit 2; }
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((PER_SERVER + 200)) ]; then log "open-file limit $(ulimit -n) is below PER_SERVER + 200"; exit 2; fi

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
mode_args=()
[ "$MODE" = --plain ] && mode_args=(--plain)
tracer=()
[ "$TRACE" = 1 ] && tracer=(strace -f --seccomp-bpf -ttt -e trace=read,epoll_wait,epoll_pwait -e signal=none -s 0)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_of() { local t=0; for pid in "$@"; do t=$((t + $(cpu_ticks "$pid"))); done; echo "$t"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# timeline ROUND: milliseconds from the send to each server's first read after it (the line, or
# the XREAD reply), to the end of its fan-out (the epoll wait that follows), and to its
# listener's first and last participant with the line (TRACE=1).
timeline() {
    python3 - "$1" "$WORK" "$SERVERS" <<'PY'
import re, sys
round_, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sent = int(re.search(r"sent_at_us=(\d+)", open(f"{work}/send.out").read()).group(1)) / 1e6
print(f"timeline round={round_} (ms after the send)", file=sys.stderr)
for k in range(1, n + 1):
    got = end = None
    for line in open(f"{work}/server-{k}.strace"):
        m = re.match(r"(?:\d+ +)?(\d+\.\d+) (\w+)\(", line)
        if not m or float(m.group(1)) < sent: continue
        t, call = float(m.group(1)), m.group(2)
        if got is None and call == "read" and not re.search(r"= -1|= 0$", line): got = t
        elif got is not None and call.startswith("epoll"): end = t; break
    out = open(f"{work}/listen-{k}.out").read()
    first = int(re.search(r"first_at_us=(\d+)", out).group(1)) / 1e6
    last = int(re.search(r"last_at_us=(\d+)", out).group(1)) / 1e6
    ms = lambda t: f"{(t - sent) * 1000:8.1f}" if t else "       -"
    print(f"  server {k}: read {ms(got)}  fan-out done {ms(end)}  listener first {ms(first)}  last {ms(last)}", file=sys.stderr)
PY
}

: >"$RAW"
log "$SERVERS servers x $PER_SERVER participants, mode ${MODE}, $ROUNDS round(s); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    redis_port=$("${server_core[@]}" bash "$ROOT/scripts/redis_server.sh" start "$WORK/redis")
    redis_pid=$(cat "$WORK/redis/redis.pid")
    servers=() ports=()
    for k in $(seq "$SERVERS"); do
        port=$((PORT_BASE + k - 1))
        trace_out=()
        [ "$TRACE" = 1 ] && trace_out=(-o "$WORK/server-$k.strace")
        "${server_core[@]}" "${tracer[@]}" "${trace_out[@]}" "$BIN/ChatExample" "${mode_args[@]}" --host 127.0.0.1 --port "$port" \
            --redis "redis://127.0.0.1:$redis_port" --node "n$k" --log-level warning >"$WORK/server-$k.log" 2>&1 &
        servers+=($!) ports+=("$port")
        PIDS+=($!)
    done
    for k in $(seq "$SERVERS"); do
        for _ in $(seq 200); do is_listening "${ports[$((k - 1))]}" && break; sleep 0.05; done
        is_listening "${ports[$((k - 1))]}" || { log "server $k did not listen"; tail -5 "$WORK/server-$k.log" >&2; exit 1; }
    done
    # Federated: each server's first XREAD is blocked on redis (one client each is `blocked`).
    for _ in $(seq 200); do
        blocked=$(redis-cli -p "$redis_port" info clients | awk -F: '/^blocked_clients/ { print $2 + 0 }')
        [ "$blocked" -ge "$SERVERS" ] && break
        sleep 0.05
    done
    [ "$blocked" -ge "$SERVERS" ] || { log "only $blocked of $SERVERS servers federated"; exit 1; }
    rss_before=0
    for pid in "${servers[@]}"; do rss_before=$((rss_before + $(rss_kb "$pid"))); done
    redis_before=$(rss_kb "$redis_pid")

    listeners=()
    for k in $(seq "$SERVERS"); do
        : >"$WORK/listen-$k.err"
        "${client_core[@]}" timeout 900 "$CHATBENCH" listen --port "${ports[$((k - 1))]}" --conns "$PER_SERVER" \
            --pid "${servers[$((k - 1))]}" --timeout 300 --linger 5 >"$WORK/listen-$k.out" 2>"$WORK/listen-$k.err" &
        listeners+=($!)
        PIDS+=($!)
    done
    ready=0 deadline=$(($(date +%s) + 600)) # connecting 100,000 takes minutes on a loaded machine
    while [ "$(date +%s)" -lt "$deadline" ]; do
        ready=$(cat "$WORK"/listen-*.err | grep -c 'listen ready' || true)
        [ "$ready" -ge "$SERVERS" ] && break
        sleep 0.2
    done
    [ "$ready" -ge "$SERVERS" ] || { log "only $ready of $SERVERS listeners ready"; tail -3 "$WORK"/listen-*.err >&2; exit 1; }
    rss_after=0
    for pid in "${servers[@]}"; do rss_after=$((rss_after + $(rss_kb "$pid"))); done
    redis_after=$(rss_kb "$redis_pid")
    load=$(cut -d' ' -f1 /proc/loadavg)
    server_t0=$(ticks_of "${servers[@]}" "$redis_pid")
    listener_pids=()
    for pid in "${listeners[@]}"; do listener_pids+=($(pgrep -P "$pid" || true)); done # chatbench under `timeout`
    listen_t0=$(ticks_of "${listener_pids[@]}")

    "${client_core[@]}" timeout 30 "$CHATBENCH" send --port "${ports[0]}" --msgs 1 >"$WORK/send.out" 2>>"$WORK/send.err" || true
    server_t1=$(ticks_of "${servers[@]}" "$redis_pid")
    for _ in $(seq 600); do # until every listener has its line (or gave up)
        done_count=$(cat "$WORK"/listen-*.out | grep -c 'mode=listen' || true)
        [ "$done_count" -ge "$SERVERS" ] && break
        server_t1=$(ticks_of "${servers[@]}" "$redis_pid")
        sleep 0.05
    done
    listen_t1=$(ticks_of "${listener_pids[@]}") # they linger after printing: still there
    status=0
    for pid in "${listeners[@]}"; do wait "$pid" || status=1; done
    hz=$(getconf CLK_TCK)
    server_cpu=$(awk -v a="$server_t0" -v b="$server_t1" -v h="$hz" 'BEGIN { printf "%.2f", (b - a) / h }')
    listener_cpu=$(awk -v a="$listen_t0" -v b="$listen_t1" -v h="$hz" 'BEGIN { printf "%.2f", (b - a) / h }')
    participants=0 reached=0 max_us=0 p99_max=0 accepted=0
    for k in $(seq "$SERVERS"); do
        line=$(tail -1 "$WORK/listen-$k.out")
        field() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
        participants=$((participants + $(field conns)))
        reached=$((reached + $(field reached)))
        accepted=$((accepted + $(field accepted)))
        m=$(field max_us) p=$(field p99_us)
        [ "${m:-0}" -gt "$max_us" ] && max_us=$m
        [ "${p%.*}" -gt "$p99_max" ] && p99_max=${p%.*}
    done
    participants=$((participants + 1)) # the sender is one too
    kb=$(awk -v a="$rss_before" -v b="$rss_after" -v n="$participants" 'BEGIN { printf "%.3f", (b - a) / n }')
    redis_kb=$(awk -v a="$redis_before" -v b="$redis_after" -v n="$participants" 'BEGIN { printf "%.3f", (b - a) / n }')
    died=0
    for pid in "${servers[@]}"; do kill -0 "$pid" 2>/dev/null || died=$((died + 1)); done
    echo "round=$round servers=$SERVERS mode=$MODE participants=$participants accepted=$accepted reached=$reached" \
        "missing=$((participants - 1 - reached)) last_ms=$(awk -v u="$max_us" 'BEGIN { printf "%.1f", u / 1000 }')" \
        "worst_p99_ms=$(awk -v u="$p99_max" 'BEGIN { printf "%.1f", u / 1000 }') kb_per_participant=$kb" \
        "server_rss_mb=$((rss_after / 1024)) redis_kb_per_participant=$redis_kb server_cpu_s=$server_cpu listener_cpu_s=$listener_cpu load=$load exit=$status servers_died=$died" |
        tee -a "$RAW" >&2
    if [ "$TRACE" = 1 ]; then
        timeline "$round"
        mkdir -p "$OUT/trace-$round" && cp "$WORK"/server-*.strace "$WORK"/listen-*.out "$WORK"/send.out "$OUT/trace-$round/"
    fi
    cleanup
done

python3 - "$RAW" <<'EOF'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if line.strip()]
med = lambda key: statistics.median(float(r[key]) for r in rows)
print(f"| figure (median of {len(rows)}) | value | goal |")
print("|---|---|---|")
print(f"| participants ({rows[0]['servers']} servers, {rows[0]['mode']}) | {med('participants'):,.0f} | >= 100,000 |")
print(f"| reached by the line | {med('reached'):,.0f} (missing {med('missing'):.0f}) | all |")
print(f"| server memory per participant, KB | {med('kb_per_participant'):.2f} | <= 2 |")
print(f"| time until the last has the line, ms | {med('last_ms'):.0f} | <= 500 |")
print(f"| redis-server memory per participant, KB | {med('redis_kb_per_participant'):.3f} | |")
print(f"| CPU of the servers and redis-server for the line, s | {med('server_cpu_s'):.2f} | |")
print(f"| load average at the send (1 min) | {med('load'):.1f} | |")
EOF
