#!/usr/bin/env bash
# A throwaway redis-server for script tests (the federation's, later): loopback only, a free
# port, no persistence unless asked. The Swift tests use Tests/UVLoopRedisTests/RedisServerProcess.swift.
#
#   dir=$(mktemp -d)
#   port=$(bash scripts/redis_server.sh start "$dir")            # prints the port once PING answers
#   port=$(bash scripts/redis_server.sh start "$dir" --appendonly yes)   # extra redis-server flags
#   bash scripts/redis_server.sh kill "$dir"                     # SIGKILL, as a crash would
#   bash scripts/redis_server.sh restart "$dir"                  # same port, same flags, same data dir
#   bash scripts/redis_server.sh stop "$dir"                     # SIGTERM and wait
set -euo pipefail

command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { sed -n '2,11p' "$0" >&2; exit 2; }
shift 2
mkdir -p "$dir"

launch() {
    local port=$1
    shift
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
    for _ in $(seq 200); do
        if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ]; then
            # Ours, not another process's server that holds the port (ours then failed to bind).
            if [ "$(redis-cli -p "$port" info server | tr -d '\r' | sed -n 's/^process_id://p')" != "$(cat "$dir/redis.pid" 2>/dev/null)" ]; then
                echo "redis_server.sh: port $port is another redis-server's; log: $dir/redis.log" >&2
                return 1
            fi
            echo "$port"
            return 0
        fi
        sleep 0.05
    done
    echo "redis_server.sh: redis-server on port $port did not answer PING within 10 s; log: $dir/redis.log" >&2
    exit 1
}

signal_and_wait() {
    local pid
    pid=$(cat "$dir/redis.pid" 2>/dev/null) || return 0
    kill "-$1" "$pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || { rm -f "$dir/redis.pid"; return 0; }; sleep 0.05; done
    echo "redis_server.sh: redis-server $pid did not exit" >&2
    exit 1
}

case "$command" in
    start)
        # A free port below the ephemeral range (32768 and up), so that while a test has killed
        # its server no outgoing connection's local port takes the port it restarts on.
        : > "$dir/flags"
        if (($#)); then printf '%s\n' "$@" > "$dir/flags"; fi
        for _ in 1 2 3 4 5; do
            port=$(python3 -c 'import random, socket
while True:
    port = random.randrange(13000, 18000)
    try:
        socket.socket().bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass')
            echo "$port" > "$dir/port"
            if launch "$port" "$@"; then exit 0; fi
            signal_and_wait KILL
        done
        exit 1
        ;;
    restart)
        mapfile -t flags < "$dir/flags"
        launch "$(cat "$dir/port")" "${flags[@]}"
        ;;
    kill) signal_and_wait KILL ;;
    stop) signal_and_wait TERM ;;
    *) echo "redis_server.sh: unknown command $command (start, restart, kill, stop)" >&2; exit 2 ;;
esac
