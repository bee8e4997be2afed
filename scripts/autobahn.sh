#!/usr/bin/env bash
# Runs Autobahn|Testsuite's fuzzing client (wstest -m fuzzingclient) against
# WebSocketEchoExample and fails if any case is FAILED (OK, NON-STRICT and INFORMATIONAL pass).
#
#   bash scripts/autobahn.sh              # the quick subset CI runs: 292 cases, ~1 min
#   bash scripts/autobahn.sh --full       # every case, 1.* to 13.*: 14-40 min on 2 cores (load 1-12)
#                                         # (the 12.*/13.* cases: 1,000 messages of up to 128 KiB each,
#                                         # compressed by the server and by wstest in Python); limit 4 h
#   bash scripts/autobahn.sh --cases '5.*,6.1.*' [--binary .build/debug/HTTPExample] [--name DIR]
#   (--name: the report's folder under .build-autobahn/, so that several runs can go at once)
#
# The suite needs Python 2.7 (scripts/autobahn_setup.sh builds its virtualenv in
# .build-autobahn/venv). The report lands in .build-autobahn/<quick|full|custom>/reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

# The quick subset: framing, pings, fragmentation, UTF-8, close codes and limits in full, and the
# compression cases with messages up to 4 KiB under every negotiated parameter set (13.1-13.7).
compressed=$(printf '"%s", ' 12.1.{1..5} 12.2.{1..5} 13.{1..7}.{1..5})
quick="\"1.*\", \"2.*\", \"3.*\", \"4.*\", \"5.*\", \"6.*\", \"7.*\", \"10.*\", ${compressed%, }"
cases=$quick
binary=""
limit=600
mode=quick
name=""
while (($#)); do
    case "$1" in
        --full) cases='"*"'; limit=14400; mode=full; shift ;;
        --cases) cases=$(echo "$2" | sed 's/[^,][^,]*/"&"/g'); mode=custom; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --timeout) limit="$2"; shift 2 ;;
        --name) name="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "autobahn: unknown argument $1" >&2; exit 2 ;;
    esac
done

status=0
bash scripts/autobahn_setup.sh || status=$?
if ((status == 3)) && [ "${AUTOBAHN_REQUIRED:-0}" != 1 ]; then
    echo "autobahn: SKIPPED: Python 2.7 is not installed (AUTOBAHN_REQUIRED=1 makes this an error)"
    exit 0
fi
((status == 0)) || exit "$status"
if [ -z "$binary" ]; then
    swift build -c release --package-path Examples --product HTTPExample >&2
    binary=Examples/.build/release/HTTPExample
fi

out=.build-autobahn/${name:-$mode}
rm -rf "$out"
mkdir -p "$out/reports"
# HTTPExample serves the echo at /ws/echo; WebSocketEchoExample (the standalone upgrade) at any path.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
path=/
case "$(basename "$binary")" in HTTPExample) path=/ws/echo ;; esac
"$binary" --host 127.0.0.1 --port "$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null && break
    sleep 0.1
done
python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null ||
    { echo "autobahn: the server did not start" >&2; cat "$out/server.log" >&2; exit 1; }

cat >"$out/fuzzingclient.json" <<JSON
{
  "outdir": "$PWD/$out/reports",
  "servers": [{"agent": "UVLoop", "url": "ws://127.0.0.1:$port$path"}],
  "cases": [$cases],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
echo "== autobahn: wstest -m fuzzingclient, cases [$cases], against 127.0.0.1:$port"
started=$(date +%s)
(cd "$out" && timeout "$limit" ../venv/bin/wstest -m fuzzingclient -s fuzzingclient.json >wstest.log 2>&1) || {
    echo "autobahn: wstest failed or ran past ${limit} s; see $out/wstest.log" >&2
    tail -20 "$out/wstest.log" >&2
    exit 1
}
kill -0 $server 2>/dev/null || { echo "autobahn: the server died" >&2; cat "$out/server.log" >&2; exit 1; }
python3 scripts/autobahn_summary.py "$out/reports/index.json" "$(($(date +%s) - started))"
