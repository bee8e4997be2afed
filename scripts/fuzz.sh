#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (with AddressSanitizer, so leaks and memory
# errors count as failures too) and runs each for a bounded time or number of inputs.
#
#   bash scripts/fuzz.sh                     # every target for 15 s (the quick run test.sh does)
#   bash scripts/fuzz.sh --seconds 120       # longer
#   bash scripts/fuzz.sh --runs 1000000      # at least a million inputs each (fails if not reached)
#   bash scripts/fuzz.sh --runs 1000000 LineReaderFuzz
#
# Each target is compiled with swiftc straight from the library's sources (no SwiftPM), into
# .build-fuzz/. The seed corpus in Fuzz/corpus/<target> is copied to .build-fuzz/corpus/<target>,
# which grows between runs; crash, timeout and leak reproducers land in .build-fuzz/artifacts/.
# Reproduce one with: .build-fuzz/<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=15
runs=0
targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=(LineReaderFuzz ChatInputFuzz TextSanitizerFuzz)

# The library sources each target needs besides itself (keep these lists short: a target must
# not depend on the loop, so that it runs millions of inputs a minute).
sources_LineReaderFuzz="Sources/UVLoop/LineReader.swift Sources/UVLoop/Bytes.swift"
sources_ChatInputFuzz="Examples/ChatCore/ChatInput.swift Examples/ChatCore/Nickname.swift"
sources_TextSanitizerFuzz="Sources/UVLoop/TextSanitizer.swift Sources/UVLoop/Bytes.swift"

out=.build-fuzz
mkdir -p "$out/artifacts"
# A crash must end the process at once: the Swift backtracer would otherwise hold the pipe.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"

libuv_flags=()
for flag in $(pkg-config --cflags-only-I libuv); do libuv_flags+=(-Xcc "$flag"); done

status=0
summary=()
for target in "${targets[@]}"; do
    sources_var="sources_$target"
    [ -n "${!sources_var:-}" ] || { echo "fuzz: unknown target $target" >&2; exit 2; }
    echo "== fuzz: building $target"
    # shellcheck disable=SC2086  # the source lists are space-separated paths without spaces
    swiftc -sanitize=fuzzer,address -use-ld=lld -parse-as-library -O -g -module-name "$target" \
        -I Sources/CLibUV "${libuv_flags[@]}" \
        "Fuzz/Targets/$target.swift" ${!sources_var} $(pkg-config --libs libuv) -o "$out/$target"

    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    cp -n "Fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
    options=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-")
    [ -f "Fuzz/$target.dict" ] && options+=(-dict="Fuzz/$target.dict")
    if ((runs > 0)); then
        # Bounded in time too, so a slow machine cannot hold the run forever.
        options+=(-runs="$runs" -max_total_time=3600)
        echo "== fuzz: running $target for $runs inputs"
    else
        options+=(-max_total_time="$seconds")
        echo "== fuzz: running $target for $seconds s"
    fi
    log="$out/$target.log"
    if "$out/$target" "${options[@]}" "$corpus" >"$log" 2>&1; then
        executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
        entries=$(find "$corpus" -type f | wc -l)
        if ((runs > 0)) && ((executed < runs)); then
            summary+=("$target: FAILED: only $executed of $runs inputs within the time bound")
            status=1
        else
            summary+=("$target: $executed inputs, no crash, hang or leak (peak RSS ${rss} MB, corpus $entries entries)")
        fi
    else
        status=1
        echo "---- $target failed; the end of $log:" >&2
        grep -v '^#\|^"\|Uses:' "$log" | tail -40 >&2
        summary+=("$target: FAILED (see $log and $out/artifacts/)")
    fi
done
echo "== fuzz summary"
printf '   %s\n' "${summary[@]}" | tee "$out/summary.txt"
exit $status
