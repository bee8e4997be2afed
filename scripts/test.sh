#!/usr/bin/env bash
# Runs every test: build with warnings as errors, the format lint, the unit tests, the
# integration tests that drive the release ChatExample with real nc and socket clients, and the
# quick reliability runs (the unit tests under ASan and TSan, short fuzzing, fault injection,
# churn and descriptor exhaustion; the long runs are in RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh

# Two packages: the library (root; its ServiceLifecycle trait on, so every module is built) and
# the example programs (Examples/, with the chat server's tests). Example binaries: $EX.
LIB=(--traits ServiceLifecycle)
EXAMPLES=(--package-path Examples)
EX=Examples/.build/release

echo "== build (warnings are errors)"
swift build --build-tests "${LIB[@]}" -Xswiftc -warnings-as-errors
swift build --build-tests "${EXAMPLES[@]}" -Xswiftc -warnings-as-errors

echo "== format lint"
swift format lint --strict -r Sources Examples Tests Fuzz Package.swift

echo "== unit tests"
swift test --skip-build "${LIB[@]}"
swift test --skip-build "${EXAMPLES[@]}"

echo "== a package depending on UVLoop fetches and builds only the library"
bash scripts/dependent_package_test.sh

echo "== integration tests (release build, real nc clients)"
swift build -c release "${EXAMPLES[@]}" -Xswiftc -warnings-as-errors
swift build -c release --product HTTPParserFuzz -Xswiftc -warnings-as-errors  # http_h11_diff.py's parser
python3 scripts/chat_integration.py $EX/ChatExample
python3 scripts/chat_features_test.py $EX/ChatExample
python3 scripts/examples_smoke_test.py $EX
python3 scripts/seed_emfile_test.py $EX/SeedChatExample
python3 scripts/ws_interop_test.py $EX/WebSocketEchoExample
bash scripts/autobahn.sh --binary $EX/HTTPExample
python3 scripts/tls_chat_client_test.py $EX/ChatClientExample
UVLOOP_TLS_LEAK_ROUNDS=3000 swift test --skip-build "${LIB[@]}" --filter TLSLeakTests
python3 scripts/http_integration.py $EX
python3 scripts/http_h11_diff.py .build/release
python3 scripts/chat_tls_test.py $EX
python3 scripts/chat_browser_test.py $EX/ChatExample
python3 scripts/chat_websocket_test.py $EX/ChatExample
python3 scripts/chat_federation_test.py $EX/ChatExample  # ~30 s: 3+ processes through redis-server
python3 scripts/chat_federation_netns_test.py $EX/ChatExample  # ~35 s: Redis and two servers in their own network namespaces, a 20 s link cut

echo "== reliability: sanitizers, fuzzing, fault injection, churn, descriptor exhaustion (RELIABILITY.md)"
bash scripts/sanitize.sh
bash scripts/fuzz.sh --seconds 10
python3 scripts/fault_injection.py $EX/ChatExample
python3 scripts/chat_ws_fault_injection.py $EX/ChatExample  # ~20 s: broken browsers beside chatbench --ws
python3 scripts/churn.py $EX/ChatExample --cycles 20000
python3 scripts/fd_exhaustion.py $EX/ChatExample --rounds 1

echo "== all tests passed in $(($(date +%s) - started)) s"
