#!/usr/bin/env bash
# Runs every test: the format lint, the release build with warnings as errors, the unit tests
# under ASan (warnings are errors there too), the integration tests that drive the release
# examples with real nc, TLS, HTTP, WebSocket, browser and Redis peers, and the quick
# reliability runs (the library's unit tests under TSan, short fuzzing, fault injection, churn
# and descriptor exhaustion; the long runs are in RELIABILITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# Each section says how long the one before it took, so the run's time can be kept in budget.
section_started=$started
section_name=""
section() {
    local now
    now=$(date +%s)
    [ -z "$section_name" ] || echo "   ($section_name: $((now - section_started)) s)"
    section_name=$1
    section_started=$now
    echo "== $1"
}
# Runs a command and says how long it took.
timed() {
    local t0
    t0=$(date +%s)
    "$@"
    echo "   ($* : $(($(date +%s) - t0)) s)" | sed "s|$PWD/||g"
}
section "setup"
bash scripts/setup.sh

# Two packages: the library (root; scripts/sanitize.sh turns its ServiceLifecycle trait on, so
# every module is built) and the example programs (Examples/, with the chat server's tests).
# Example binaries: $EX.
EXAMPLES=(--package-path Examples)
EX=Examples/.build/release

section "format lint"
swift format lint --strict -r Sources Examples Tests Fuzz Package.swift

# Each package is compiled once per kind of build (release; ASan; TSan), every one with warnings
# as errors: no plain debug build, since every unit test runs under ASan (stricter, and the run
# stays in CI's time budget; `swift test` still works by hand).
section "build: the example programs, release (warnings are errors)"
swift build -c release "${EXAMPLES[@]}" -Xswiftc -warnings-as-errors
swift build -c release --product HTTPParserFuzz -Xswiftc -warnings-as-errors  # http_h11_diff.py's parser

section "unit tests, both packages, under AddressSanitizer and LeakSanitizer (RELIABILITY.md)"
bash scripts/sanitize.sh address

section "a package depending on UVLoop fetches and builds only the library"
bash scripts/dependent_package_test.sh

section "integration tests (release build, real nc clients)"
timed python3 scripts/chat_integration.py $EX/ChatExample
timed python3 scripts/chat_features_test.py $EX/ChatExample
timed python3 scripts/examples_smoke_test.py $EX
timed python3 scripts/seed_emfile_test.py $EX/SeedChatExample
timed python3 scripts/ws_interop_test.py $EX/WebSocketEchoExample
timed bash scripts/autobahn.sh --binary $EX/HTTPExample
timed python3 scripts/tls_chat_client_test.py $EX/ChatClientExample
UVLOOP_TLS_LEAK_ROUNDS=3000 timed bash scripts/sanitize.sh address --library --filter TLSLeakTests
timed python3 scripts/http_integration.py $EX
timed python3 scripts/http_h11_diff.py .build/release
timed python3 scripts/chat_tls_test.py $EX
timed python3 scripts/chat_browser_test.py $EX/ChatExample
timed python3 scripts/chat_websocket_test.py $EX/ChatExample
timed python3 scripts/chat_federation_test.py $EX/ChatExample  # ~30 s: 3+ processes through redis-server
timed python3 scripts/chat_federation_netns_test.py $EX/ChatExample  # ~35 s: Redis and two servers in their own network namespaces, a 20 s link cut

section "reliability: TSan, fuzzing, fault injection, churn, descriptor exhaustion (RELIABILITY.md)"
timed bash scripts/sanitize.sh thread
timed bash scripts/fuzz.sh --seconds 10
timed python3 scripts/fault_injection.py $EX/ChatExample
timed python3 scripts/chat_ws_fault_injection.py $EX/ChatExample  # ~20 s: broken browsers beside chatbench --ws
timed python3 scripts/churn.py $EX/ChatExample --cycles 20000
timed python3 scripts/fd_exhaustion.py $EX/ChatExample --rounds 1

section "done"
echo "== all tests passed in $(($(date +%s) - started)) s"
