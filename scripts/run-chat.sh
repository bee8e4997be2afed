#!/usr/bin/env bash
# Runs the chat server (release build), installing libuv first if it is missing.
# Usage: bash scripts/run-chat.sh [--port 3000] [--host 0.0.0.0] [--plain] [--verbose]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --package-path Examples --product ChatExample >&2
exec Examples/.build/release/ChatExample "$@"
