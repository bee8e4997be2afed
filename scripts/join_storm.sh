#!/usr/bin/env bash
# Measures what a join storm and the mass departure after it cost a chat server: starts
# SERVER (with any extra flags), has chatbench hold CONNS connections, and reports the server's
# CPU time for the joins (until every connection is accepted and the server is quiet) and for
# the departures (until its open files are back to where they started), plus chatbench's figures.
#
#   scripts/join_storm.sh Examples/.build/release/ChatExample [--plain] [other ChatExample flags]
#
# Environment: CONNS (default 19000), PORT (default 3100), CHATBENCH (default
# .build/tools/chatbench; build it with the command in /work/shared/bench/README.md).
# Loopback only. Raises the open-file limit to 20000 (the hard limit here).
set -euo pipefail

server=${1:?usage: join_storm.sh SERVER [FLAGS...]}
shift
conns=${CONNS:-19000}
port=${PORT:-3100}
chatbench=${CHATBENCH:-.build/tools/chatbench}
ulimit -n 20000

ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
fds() { ls "/proc/$1/fd" | wc -l; }
# Waits until the process's CPU time has not moved for a whole second.
quiet() {
    local before after
    after=$(cpu "$1")
    while true; do
        before=$after
        sleep 1
        after=$(cpu "$1")
        [[ $before == "$after" ]] && return
    done
}

log=$(mktemp)
"$server" --host 127.0.0.1 --port "$port" "$@" >"$log" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
until grep -q "starting up" "$log"; do sleep 0.1; done
fd0=$(fds $pid)
start=$(cpu $pid)

"$chatbench" hold --port "$port" --conns "$conns" --pid $pid --hold-s 4 >"$log.bench" 2>/dev/null &
bench=$!
until (($(fds $pid) >= fd0 + conns)) || ! kill -0 $bench 2>/dev/null; do sleep 0.2; done
quiet $pid
joined=$(cpu $pid)
wait $bench || true
until (($(fds $pid) <= fd0 + 16)); do sleep 0.2; done
quiet $pid
left=$(cpu $pid)

awk -v s="$start" -v j="$joined" -v l="$left" -v name="$(basename "$server")" -v flags="$*" -v n="$conns" 'BEGIN {
    printf "join_storm server=%s flags=\"%s\" conns=%d join_cpu_s=%.2f leave_cpu_s=%.2f total_cpu_s=%.2f\n",
        name, flags, n, j - s, l - j, l - s }'
tail -n 1 "$log.bench"
rm -f "$log.bench"
