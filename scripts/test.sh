#!/usr/bin/env bash
# Runs every test: build with warnings as errors, the format lint, the unit tests, the
# integration tests that drive the release ChatExample with real nc and socket clients, and the
# quick reliability runs (the unit tests under ASan and TSan, short fuzzing, fault injection,
# churn and descriptor exhaustion; the long runs are in RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh

echo "== build (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors

echo "== format lint"
swift format lint --strict -r Sources Examples Tests Fuzz Package.swift

echo "== unit tests"
swift test --skip-build

echo "== integration tests (release build, real nc clients)"
swift build -c release -Xswiftc -warnings-as-errors
python3 scripts/chat_integration.py .build/release/ChatExample
python3 scripts/chat_features_test.py .build/release/ChatExample
python3 scripts/examples_smoke_test.py .build/release
python3 scripts/seed_emfile_test.py .build/release/SeedChatExample
python3 scripts/ws_interop_test.py .build/release/WebSocketEchoExample
bash scripts/autobahn.sh --binary .build/release/HTTPExample
python3 scripts/tls_chat_client_test.py .build/release/ChatClientExample
UVLOOP_TLS_LEAK_ROUNDS=3000 swift test --skip-build --filter TLSLeakTests
python3 scripts/http_integration.py .build/release
python3 scripts/http_h11_diff.py .build/release
python3 scripts/chat_tls_test.py .build/release
python3 scripts/chat_browser_test.py .build/release/ChatExample
python3 scripts/chat_websocket_test.py .build/release/ChatExample
python3 scripts/chat_federation_test.py .build/release/ChatExample  # ~30 s: 3+ processes through redis-server
python3 scripts/chat_federation_netns_test.py .build/release/ChatExample  # ~35 s: Redis and two servers in their own network namespaces, a 20 s link cut

echo "== reliability: sanitizers, fuzzing, fault injection, churn, descriptor exhaustion (RELIABILITY.md)"
bash scripts/sanitize.sh
bash scripts/fuzz.sh --seconds 10
python3 scripts/fault_injection.py .build/release/ChatExample
python3 scripts/churn.py .build/release/ChatExample --cycles 20000
python3 scripts/fd_exhaustion.py .build/release/ChatExample --rounds 1

echo "== all tests passed in $(($(date +%s) - started)) s"
