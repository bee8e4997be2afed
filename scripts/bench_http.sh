#!/usr/bin/env bash
# HTTP benchmark: HTTPExample beside nginx (one worker), h2o (one thread) and Hummingbird 2
# (one event loop), each pinned to core 0, wrk -t1 on core 1, keep-alive `GET /` answering
# `hello\n`; then 16-deep pipelining (wrk with a Lua script). Rounds are interleaved (every
# server once per round) and the medians printed; p99 latency from wrk --latency. UVLoop is
# measured twice: `/` (a synchronous handler, answered in the read callback) and, as
# `uvloop-async`, `/async` (the same answer from an async handler, on the connection's task).
# `nginx-twin` is a second nginx, identical to the first (keep-alive only): how far two equal
# servers' figures lie apart in the same run is the resolution of every comparison.
#
#   bash scripts/bench_http.sh [BUILD_DIR]         # 3 rounds of 5 s, 100 connections
#   ROUNDS=5 SECONDS_PER_RUN=10 CONNS=100 bash scripts/bench_http.sh Examples/.build/release
#   PORT=25030 bash scripts/bench_http.sh          # the servers on PORT to PORT+3 (default 18181)
#
# Prints every run, then medians with the ratios UVLoop / faster of nginx and h2o and
# UVLoop / Hummingbird, and appends the raw lines to OUT/http_raw.txt (OUT defaults to
# Benchmarks/results). BUILD_DIR holds HTTPExample (default Examples/.build/release).
#
# Needs the release HTTPExample (swift build -c release --package-path Examples --product HTTPExample), nginx, h2o and
# wrk (scripts/setup.sh installs nginx and wrk; apt-get install h2o), and for Hummingbird
# `cd Benchmarks/HTTPPeers && swift build -c release` (skipped if absent). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-Examples/.build/release}
out=${OUT:-Benchmarks/results}
mkdir -p "$out"
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rounds=${ROUNDS:-3}
duration=${SECONDS_PER_RUN:-5}
conns=${CONNS:-100}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

declare -A ports
base_port=${PORT:-18181}
ports[uvloop]=$base_port
ports[nginx]=$((base_port + 1))
ports[h2o]=$((base_port + 2))
ports[hummingbird]=$((base_port + 3))
ports[uvloop-async]=$base_port
ports[nginx-twin]=$((base_port + 4))
declare -A paths
paths[uvloop-async]=/async

taskset -c 0 "$build/HTTPExample" --port "${ports[uvloop]}" >"$work/uvloop.log" 2>&1 &
pids+=($!)

for name in nginx nginx-twin; do
    mkdir -p "$work/$name"
    cat >"$work/$name/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
master_process off;
error_log $work/$name/error.log;
pid $work/$name/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:${ports[$name]} backlog=4096;
        location = / { default_type text/plain; return 200 "hello\n"; }
    }
}
NGINX
    taskset -c 0 nginx -c "$work/$name/nginx.conf" -p "$work/$name" &
    pids+=($!)
done

servers=(uvloop uvloop-async nginx)
if command -v h2o >/dev/null; then
    printf 'hello\n' >"$work/hello.txt"
    # h2o started as root serves as nobody: the file and its folder must be readable.
    chmod 755 "$work"
    chmod 644 "$work/hello.txt"
    cat >"$work/h2o.conf" <<H2O
num-threads: 1
listen:
  host: 127.0.0.1
  port: ${ports[h2o]}
hosts:
  default:
    paths:
      /:
        file.file: $work/hello.txt
H2O
    taskset -c 0 h2o -c "$work/h2o.conf" >"$work/h2o.log" 2>&1 &
    pids+=($!)
    servers+=(h2o)
fi
hummingbird=Benchmarks/HTTPPeers/.build/release/HummingbirdHello
if [ -x "$hummingbird" ]; then
    taskset -c 0 "$hummingbird" --port "${ports[hummingbird]}" >"$work/hummingbird.log" 2>&1 &
    pids+=($!)
    servers+=(hummingbird)
fi

servers+=(nginx-twin)  # last, so that it also differs from nginx in its place in the round

cat >"$work/pipeline.lua" <<'LUA'
-- Sends 16 requests at once on each connection (pipelining).
init = function(args)
    local r = {}
    for i = 1, 16 do r[i] = wrk.format("GET") end  -- the URL's path
    req = table.concat(r)
end
request = function() return req end
LUA

for server in "${servers[@]}"; do
    for _ in $(seq 100); do
        curl -s "http://127.0.0.1:${ports[$server]}${paths[$server]:-/}" 2>/dev/null | grep -q hello && break
        sleep 0.1
    done
    curl -s "http://127.0.0.1:${ports[$server]}${paths[$server]:-/}" | grep -q hello || {
        echo "$server is not answering" >&2
        exit 1
    }
done

# One run: prints "requests/s p99-ms".
run() {
    local port=$1 path=$2 script=${3:-}
    local args=(-t1 -c"$conns" -d"${duration}s" --latency)
    [ -n "$script" ] && args+=(-s "$script")
    # To a file, parsed after wrk exits: a parser started beside wrk (a pipe) takes the CPU
    # for its start-up while wrk measures, and its ~50 ms were 1% of a 5 s run, all of it in
    # every server's p99 (2.2 ms, not 1.0).
    taskset -c 1 wrk "${args[@]}" "http://127.0.0.1:$port$path" >"$work/wrk.out"
    python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", text)
print(f"{rps:.0f} {float(p99.group(1)) * scale:.2f}" + (" errors" if errors else ""))' <"$work/wrk.out"
}

declare -A results
for round in $(seq "$rounds"); do
    for server in "${servers[@]}"; do
        for mode in keepalive pipelined; do
            [ "$server.$mode" = nginx-twin.pipelined ] && continue
            script=""
            [ "$mode" = pipelined ] && script="$work/pipeline.lua"
            line=$(run "${ports[$server]}" "${paths[$server]:-/}" "$script")
            echo "round $round $server $mode: $line req/s p99 ms"
            echo "date=$stamp round=$round server=$server mode=$mode conns=$conns seconds=$duration result=\"$line\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" >>"$out/http_raw.txt"
            results[$server.$mode]+="$line;"
        done
    done
done

echo "== medians over $rounds rounds (${duration} s, $conns connections, wrk -t1 on core 1, servers on core 0)"
for mode in keepalive pipelined; do
    for server in "${servers[@]}"; do
        [ -n "${results[$server.$mode]:-}" ] || continue
        python3 -c '
import statistics, sys
runs = [r.split() for r in sys.argv[3].split(";") if r]
rps = statistics.median(float(r[0]) for r in runs)
p99 = statistics.median(float(r[1]) for r in runs)
print(f"{sys.argv[2]:10s} {sys.argv[1]:12s} {rps:10.0f} req/s   p99 {p99:6.2f} ms")' "$server" "$mode" "${results[$server.$mode]}"
    done
done
# Ratios of the medians: UVLoop against the faster C server and against Hummingbird.
for mode in keepalive pipelined; do
    args=()
    for s in "${servers[@]}"; do args+=("${results[$s.$mode]:-}"); done
    python3 -c '
import statistics, sys
mode, servers, results = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
med = {}
for server, runs in zip(servers, results):
    if runs:
        med[server] = statistics.median(float(r.split()[0]) for r in runs.split(";") if r)
c = max((med[s], s) for s in ("nginx", "h2o") if s in med)
for name in ("uvloop", "uvloop-async"):
    ours = med[name]
    text = f"{mode:10s} {name}/{c[1]} {ours / c[0]:.2f}x"
    bird = med.get("hummingbird")
    if bird:
        text += f"   {name}/hummingbird {ours / bird:.2f}x"
    print(text)' "$mode" "${servers[*]}" "${args[@]}"
done
# The p99s beside the two identical nginx: their distance is the run's resolution.
p99_args=()
for s in uvloop nginx nginx-twin h2o; do
    [ -n "${results[$s.keepalive]:-}" ] && p99_args+=("$s=${results[$s.keepalive]}")
done
python3 -c '
import statistics, sys
p99 = {}
for pair in sys.argv[1:]:
    server, runs = pair.split("=", 1)
    p99[server] = statistics.median(float(r.split()[1]) for r in runs.split(";") if r)
ours, first, twin = p99["uvloop"], p99["nginx"], p99["nginx-twin"]
twins = abs(first - twin)
text = f"keepalive p99 ms: uvloop {ours:.2f}, nginx {first:.2f}, nginx-twin {twin:.2f}"
if "h2o" in p99:
    h2o = p99["h2o"]
    text += f", h2o {h2o:.2f}"
print(text + f"; two identical servers lie {twins:.2f} ms apart")' "${p99_args[@]}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
