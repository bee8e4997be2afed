#!/usr/bin/env bash
# Runs every test: build with warnings as errors, the format lint, the unit tests, and the
# integration tests that drive the release ChatExample with real nc and socket clients.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh

echo "== build (warnings are errors)"
swift build --build-tests -Xswiftc -warnings-as-errors

echo "== format lint"
swift format lint --strict -r Sources Examples Tests Package.swift

echo "== unit tests"
swift test --skip-build

echo "== integration tests (release build, real nc clients)"
swift build -c release -Xswiftc -warnings-as-errors
python3 scripts/chat_integration.py .build/release/ChatExample
python3 scripts/chat_features_test.py .build/release/ChatExample
python3 scripts/examples_smoke_test.py .build/release

echo "== all tests passed in $(($(date +%s) - started)) s"
