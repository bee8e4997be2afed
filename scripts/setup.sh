#!/usr/bin/env bash
# Installs what UVLoop needs on Debian: libuv, OpenSSL and zlib (headers + pkg-config files; the
# openssl command for the TLS tests), nc for the integration tests, a C compiler for the benchmark
# tools, redis-server for the Redis tests, Chromium and selenium for the browser test. Safe to run again.
set -euo pipefail

need=()
pkg-config --exists libuv 2>/dev/null || need+=(libuv1-dev)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v nc >/dev/null || need+=(netcat-openbsd)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
command -v openssl >/dev/null || need+=(openssl)
command -v redis-server >/dev/null || need+=(redis-server)  # UVLoopRedisTests start their own
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
command -v chromium >/dev/null || need+=(chromium)                   # chat_browser_test.py
command -v chromedriver >/dev/null || need+=(chromium-driver)

if ((${#need[@]})); then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Python's websockets: the WebSocket peer of scripts/ws_interop_test.py and UVLoopWebSocketTests.
python3 -c "import websockets.asyncio.client" 2>/dev/null || python3 -m pip install -q "websockets>=13" >&2
python3 -c 'import selenium' 2>/dev/null || pip install -q selenium
command -v swift >/dev/null || { echo "setup: Swift is not installed (https://swift.org/install)" >&2; exit 1; }
