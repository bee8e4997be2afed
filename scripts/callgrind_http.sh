#!/usr/bin/env bash
# User-space instructions (callgrind) and heap allocations (malloc_count.so, if TOOLS is set)
# per keep-alive `GET /` request, independent of the machine's load: runs the server under
# callgrind twice, answering LOW and then HIGH requests from scripts/http_fixed_client.py
# (CONNS connections, one request in flight on each, as wrk does), and divides the
# differences by the extra requests, so start-up, connecting and shutting down cancel out.
#
#   scripts/callgrind_http.sh SERVER [SERVER FLAGS...]
#   scripts/callgrind_http.sh Examples/.build/release/HTTPExample
#   scripts/callgrind_http.sh nginx          # nginx 1 worker, the config of bench_http.sh
#   scripts/callgrind_http.sh h2o            # h2o 1 thread
#
# Environment: TARGET (the path requested, default /; HTTPExample's /async answers the same
# from a handler that may wait, on the connection's task), CONNS (10), LOW (1000), HIGH
# (4000), PORT (18190), TOOLS (a folder holding malloc_count.so: make -C Benchmarks/Baseline
# OUT=TOOLS), KEEP (a folder to keep the callgrind.out files in; `callgrind_annotate` them). Prints one line. Loopback only; every
# run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${1:?usage: callgrind_http.sh SERVER [FLAGS...]}
shift
conns=${CONNS:-10}
low=${LOW:-1000}
high=${HIGH:-4000}
port=${PORT:-18190}
target=${TARGET:-/}
tools=${TOOLS:-}
keep=${KEEP:-}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT

is_listening() {
    awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

# The command line of the server under test.
command=()
case "$server" in
nginx)
    mkdir -p "$work/nginx"
    cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
master_process off;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$port;
        location = / { default_type text/plain; return 200 "hello\n"; }
    }
}
NGINX
    command=(nginx -p "$work/nginx" -c "$work/nginx/nginx.conf")
    ;;
h2o)
    mkdir -p "$work/h2o"
    printf 'hello\n' >"$work/h2o/hello.txt"
    # `user: root`: as nobody, h2o could not write callgrind's output file at exit.
    cat >"$work/h2o/h2o.conf" <<H2O
num-threads: 1
user: root
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /:
        file.file: $work/h2o/hello.txt
H2O
    command=(h2o -m worker -c "$work/h2o/h2o.conf")
    ;;
*)
    command=("$server" --host 127.0.0.1 --port "$port" "$@")
    ;;
esac

# run N: one server under callgrind answering N requests; prints "instructions mallocs".
run() {
    local n=$1 out=$work/callgrind.$1
    local preload=()
    [ -n "$tools" ] && preload=(env MALLOC_COUNT_FILE="$work/mallocs.$n" LD_PRELOAD="$tools/malloc_count.so")
    "${preload[@]}" valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out.%p" "${command[@]}" \
        >"$work/server.$n.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do is_listening "$port" && break; sleep 0.1; done
    is_listening "$port" || { echo "server did not listen" >&2; tail -5 "$work/server.$n.log" >&2; exit 1; }
    timeout 900 python3 scripts/http_fixed_client.py --port "$port" --requests "$n" --conns "$conns" --target "$target" >&2
    local mallocs=0
    if [ -n "$tools" ]; then
        mallocs=$(python3 -c 'import struct,sys; print(struct.unpack("<Q", open(sys.argv[1], "rb").read(8))[0])' \
            "$work/mallocs.$n")
    fi
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    [ -n "$keep" ] && mkdir -p "$keep" && cp "$out".* "$keep/"
    # Summed over every process (h2o runs its server in a child).
    echo "$(cat "$out".* | awk '/^summary:/ { s += $2 } END { print s }') $mallocs"
}

read -r ir1 m1 < <(run "$low")
read -r ir2 m2 < <(run "$high")
awk -v i1="$ir1" -v i2="$ir2" -v m1="$m1" -v m2="$m2" -v n=$((high - low)) -v s="$(basename "$server") $*" -v t="$target" 'BEGIN {
    if (n <= 0) { print "HIGH must exceed LOW" > "/dev/stderr"; exit 1 }
    printf "callgrind_http server=\"%s\" target=%s requests=%d instructions_per_request=%.0f mallocs_per_request=%.2f\n",
        s, t, n, (i2 - i1) / n, (m2 - m1) / n
}'
