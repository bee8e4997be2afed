#!/usr/bin/env bash
# User-space instructions per delivery of a room's fan-out across federated ChatExample
# processes, against one process holding the same connections, independent of the machine's
# load: each configuration runs twice under callgrind (every ChatExample, and redis-server for
# the federated one), with LOW and HIGH lines per sender; the differences divided by the extra
# deliveries cancel start-up, connecting and shutting down.
#
#   scripts/callgrind_federation.sh TOOLS BIN_DIR
#   scripts/callgrind_federation.sh .build/tools Examples/.build/release
#
# TOOLS holds chatbench (make -C Benchmarks/chatbench OUT=TOOLS). Environment: SERVERS (3),
# CONNS (300), SENDERS (10), LOW (100), HIGH (300), PORT_BASE (3290), MODE (--plain),
# REDIS_FLAGS (extra redis-server flags, e.g. "--stream-node-max-entries 16"),
# KEEP (a folder to keep the callgrind.out files in; `callgrind_annotate` them), RUNS (1: how many
# times each configuration is measured; runs of one build differ by up to ±15%, as a process's
# instructions follow how many lines each loop iteration carries, so compare medians).
# Prints one line per configuration: instructions per delivery (servers, redis, total) and
# deliveries per socket write (uv_try_write2 calls: how many lines each write carries).
# Loopback only; every run is bounded; every process it starts is stopped by PID.
set -euo pipefail

tools=${1:?usage: callgrind_federation.sh TOOLS BIN_DIR}
bin=${2:?usage: callgrind_federation.sh TOOLS BIN_DIR}
servers=${SERVERS:-3}
conns=${CONNS:-300}
senders=${SENDERS:-10}
low=${LOW:-100}
high=${HIGH:-300}
port_base=${PORT_BASE:-3290}
mode=${MODE:---plain}
keep=${KEEP:-}
redis_flags=${REDIS_FLAGS:-}
work=$(mktemp -d)
ulimit -n 20000
pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}
trap 'for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT

is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_listening() {
    for _ in $(seq 900); do is_listening "$1" && return 0; sleep 0.1; done
    echo "port $1 did not listen" >&2
    exit 1
}
summary() { grep -m1 '^summary:' "$1" | awk '{ print $2 }'; }
# calls FILE FUNCTION: how many times FUNCTION was called (callgrind names a function by
# "(id) name" once and by "(id)" after that).
calls() {
    awk -v f="$2" '
        match($0, /^c?fn=\([0-9]+\)/) { id = substr($0, RSTART, RLENGTH); sub(/^c?fn=/, "", id)
            rest = substr($0, RLENGTH + 2); if (rest != "") name[id] = rest; cur = ($0 ~ /^cfn=/) ? id : "" }
        /^calls=/ && cur != "" && name[cur] == f { split(substr($0, 7), a, " "); n += a[1] }
        END { print n + 0 }' "$1"
}

# run N MSGS: N servers (federated through a callgrind'ed redis-server if N > 1), one chatbench
# fanout; prints "server_instructions redis_instructions socket_writes delivered".
run() {
    local n=$1 msgs=$2 tag=$1.$2 redis_port="" federate=() ports=()
    if [ "$n" -gt 1 ]; then
        redis_port=$(free_port)
        # shellcheck disable=SC2086 # REDIS_FLAGS is a list of flags
        valgrind --tool=callgrind --callgrind-out-file="$work/redis.$tag.out" redis-server --port "$redis_port" \
            --bind 127.0.0.1 --save '' --appendonly no --dir "$work" $redis_flags >"$work/redis.$tag.log" 2>&1 &
        pids+=($!)
        wait_listening "$redis_port"
    fi
    for k in $(seq "$n"); do
        local port=$((port_base + k - 1))
        [ "$n" -gt 1 ] && federate=(--redis "redis://127.0.0.1:$redis_port" --node "n$k")
        valgrind --tool=callgrind --callgrind-out-file="$work/server$k.$tag.out" "$bin/ChatExample" $mode \
            --host 127.0.0.1 --port "$port" "${federate[@]}" --log-level warning >"$work/server$k.$tag.log" 2>&1 &
        pids+=($!) ports+=("$port")
    done
    for port in "${ports[@]}"; do wait_listening "$port"; done
    if [ "$n" -gt 1 ]; then # each server's XREAD is blocked in redis before the room is used
        for _ in $(seq 900); do
            [ "$(redis-cli -p "$redis_port" info clients | awk -F: '/^blocked_clients/ { print $2 + 0 }')" -ge "$n" ] && break
            sleep 0.1
        done
    fi
    local line
    line=$(timeout 900 "$tools/chatbench" fanout --port "$(IFS=,; echo "${ports[*]}")" --conns "$conns" \
        --senders "$senders" --msgs "$msgs" --timeout 800 2>/dev/null | tail -1) || true
    echo "$line" >&2
    stop_all
    [ -n "$keep" ] && mkdir -p "$keep" && cp "$work"/*."$tag".out "$keep/"
    local ir=0 rir=0 writes=0
    for k in $(seq "$n"); do
        ir=$((ir + $(summary "$work/server$k.$tag.out")))
        writes=$((writes + $(calls "$work/server$k.$tag.out" uv_try_write2)))
    done
    [ "$n" -gt 1 ] && rir=$(summary "$work/redis.$tag.out")
    echo "$ir $rir $writes $(echo "$line" | grep -oE 'received=[0-9]+' | cut -d= -f2)"
}

runs=${RUNS:-1}
for n in 1 "$servers"; do
    results=()
    for _ in $(seq "$runs"); do
        read -r s1 r1 w1 d1 < <(run "$n" "$low")
        read -r s2 r2 w2 d2 < <(run "$n" "$high")
        results+=("$(awk -v n="$n" -v s1="$s1" -v s2="$s2" -v r1="$r1" -v r2="$r2" -v w1="$w1" -v w2="$w2" -v d1="${d1:-0}" -v d2="${d2:-0}" 'BEGIN {
            d = d2 - d1
            if (d <= 0) { print "no extra deliveries: " d1 " then " d2 > "/dev/stderr"; exit 1 }
            printf "callgrind_federation servers=%d deliveries=%d server_instructions_per_delivery=%.1f redis_instructions_per_delivery=%.1f total=%.1f deliveries_per_socket_write=%.1f\n",
                n, d, (s2 - s1) / d, (r2 - r1) / d, (s2 - s1 + r2 - r1) / d, (w2 > w1) ? d / (w2 - w1) : 0
        }')")
        echo "${results[-1]}"
    done
    if [ "$runs" -gt 1 ]; then # the run with the median total
        printf '%s\n' "${results[@]}" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^total=/) print substr($i, 7), $0 }' |
            sort -n | awk -v m=$(((runs + 1) / 2)) 'NR == m { $1 = ""; print "median" $0 }'
    fi
done
