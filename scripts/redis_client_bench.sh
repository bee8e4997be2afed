#!/usr/bin/env bash
# Pipelined SET throughput of UVLoop's RedisClient against a throwaway local redis-server
# (release build), next to redis-benchmark's own figure with the same pipeline depth.
#
#   bash scripts/redis_client_bench.sh [--commands N] [--tasks N] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."

commands=200000
tasks=100
rounds=3
while (($#)); do
    case "$1" in
        --commands) commands="$2"; shift 2 ;;
        --tasks) tasks="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

swift build -c release --package-path scripts/redis_client_bench >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

scripts/redis_client_bench/.build/release/RedisClientBench "redis://127.0.0.1:$port" "$commands" "$tasks" "$rounds"
echo -n "redis-benchmark -P $tasks (C, same server): "
redis-benchmark -p "$port" -t set -n "$commands" -P "$tasks" -c 1 -d 32 -q | tr '\r' '\n' | grep -E "^SET: .*requests per second" | tail -1
