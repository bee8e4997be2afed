#!/usr/bin/env bash
# Runs the whole unit-test suite under AddressSanitizer (with LeakSanitizer) and under
# ThreadSanitizer, each from its own build folder, one test at a time (instrumented code is slow,
# and the suite's few wall-clock checks need their loop not starved), and fails on any report.
#
#   bash scripts/sanitize.sh                 # both (test.sh runs address, then later thread)
#   bash scripts/sanitize.sh address         # or: thread
#   bash scripts/sanitize.sh thread --filter ErrorSurface
#   bash scripts/sanitize.sh address --library     # one package (or --examples)
#
# Both packages: the library's suite under both sanitizers, the examples' (Examples/, the chat
# server's tests) under ASan. Builds go to .build-asan and .build-tsan (the examples' to
# .build-asan-examples), never the default .build; each holds its sanitize.log.
# What the sanitizers cannot see: libuv itself is a system library, not instrumented, so a
# bad access made *inside* libuv (a freed handle passed to it) shows only under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

kinds=()
extra=()
only=""
while (($#)); do
    case "$1" in
        address|thread) kinds+=("$1"); shift ;;
        --filter) extra+=(--filter "$2"); shift 2 ;;
        --library|--examples) only=${1#--}; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "sanitize: unknown argument $1" >&2; exit 2 ;;
    esac
done
((${#kinds[@]})) || kinds=(address thread)

# A report must end the test process at once with its own output, not the Swift backtracer's.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:second_deadlock_stack=1"

# The library's suite (root, every trait on) under both; the examples' (the chat server's
# tests, one loop, no threads of their own) under ASan only, which keeps CI in its time budget.
packages_for() {
    case "$1" in
        address) echo "library examples" ;;
        thread) echo "library" ;;
    esac
}
package_args() {
    case "$1" in
        library) echo "--traits ServiceLifecycle" ;;
        examples) echo "--package-path Examples" ;;
    esac
}

status=0
for kind in "${kinds[@]}"; do
  read -r -a packages <<<"$(packages_for "$kind")"
  [ -z "$only" ] || packages=("$only")
  for package in "${packages[@]}"; do
    case "$kind" in
        address) scratch=$PWD/.build-asan ;;
        thread) scratch=$PWD/.build-tsan ;;
    esac
    [ "$package" = library ] || scratch=$scratch-$package
    read -r -a args <<<"$(package_args "$package")"
    echo "== sanitize: building the $package tests with --sanitize=$kind ($scratch)"
    started=$(date +%s)
    mkdir -p "$scratch"
    if ! swift build --build-tests "${args[@]}" --scratch-path "$scratch" --sanitize="$kind" -Xswiftc -warnings-as-errors >"$scratch/build.log" 2>&1; then
        grep -v "ld.gold: warning" "$scratch/build.log" | grep -E "error|warning" | head -30 >&2
        echo "sanitize: the $kind build of the $package failed (log: $scratch/build.log)" >&2
        exit 1
    fi
    echo "== sanitize: running the $package tests under $kind sanitizer"
    log="$scratch/sanitize.log"
    run_tests() {
        set +e
        swift test --skip-build --no-parallel "${args[@]}" --scratch-path "$scratch" --sanitize="$kind" "${extra[@]}" >"$log" 2>&1
        result=$?
        set -e
        summary=$(grep -E "^✔ Test run with|^✘ Test run with" "$log" | tail -1)
        reports=$(grep -cE "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$log" || true)
    }
    run_tests
    if ((result != 0)) && ((reports == 0)); then
        # A test failed without any sanitizer report: the sanitizer's slowdown on this shared
        # machine upsets a few timing-based tests. Say which, and run the suite once more.
        # A sanitizer report is never retried.
        echo "   $kind: test failure(s) without a sanitizer report; running once more:" >&2
        grep -E '^✘ Test "' "$log" | grep -v "failed after" | head -10 | sed 's/^/     /' >&2
        cp "$log" "$log.first"
        run_tests
    fi
    if ((result != 0)) || ((reports > 0)) || [[ "$summary" != "✔"* ]]; then
        status=1
        echo "---- $kind, $package: exit $result, $reports sanitizer report(s); failures and reports from $log:" >&2
        grep -E "✘|ERROR: |WARNING: ThreadSanitizer|SUMMARY: " "$log" | head -40 >&2
        echo "     (full log: $log)" >&2
    else
        echo "   $kind, $package: $summary — no sanitizer report ($(($(date +%s) - started)) s)"
    fi
  done
done
exit $status
