#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (with AddressSanitizer, so leaks and memory
# errors count as failures too) and runs each for a bounded time or number of inputs.
#
#   bash scripts/fuzz.sh                     # every target for 15 s (the quick run test.sh does)
#   bash scripts/fuzz.sh --seconds 120       # longer
#   bash scripts/fuzz.sh --runs 1000000      # at least a million inputs each (fails if not reached)
#   bash scripts/fuzz.sh --runs 1000000 LineReaderFuzz
#
# Each target is an executable target of the package (Fuzz/<target>/), built by SwiftPM with
# libFuzzer and AddressSanitizer into .build-fuzz/ (the chat protocol's targets, in Examples/Fuzz/,
# into .build-fuzz/examples/). The seed corpus in Fuzz/corpus/<target> is
# copied to .build-fuzz/corpus/<target>, which grows between runs; crash, timeout and leak
# reproducers land in .build-fuzz/artifacts/. Reproduce one with: .build-fuzz/release/<target> <artifact>
# (a plain `swift run <target> Fuzz/corpus/<target>` replays a corpus without libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=15
runs=0
targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
# Every fuzz target: the folders of Fuzz/ (the library's) and Examples/Fuzz/ (the chat
# protocol's, in the examples' package) that hold a <name>Main.swift.
if ((${#targets[@]} == 0)); then
    for main in Fuzz/*/*FuzzMain.swift Examples/Fuzz/*/*FuzzMain.swift; do
        targets+=("$(basename "$(dirname "$main")")")
    done
fi
# Where a target lives: its package's folder ("" for the root), from which its Fuzz/ is read.
home() { if [ -d "Examples/Fuzz/$1" ]; then echo Examples; else echo .; fi; }

out=$PWD/.build-fuzz
mkdir -p "$out/artifacts"
# A crash must end the process at once: the Swift backtracer would otherwise hold the pipe.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"

echo "== fuzz: building ${targets[*]}"
build=(swift build -c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld)
# One scratch folder per package: .build-fuzz for the library's targets, .build-fuzz/examples for the rest.
scratch() { if [ "$(home "$1")" = . ]; then echo "$out"; else echo "$out/examples"; fi; }
for target in "${targets[@]}"; do
    "${build[@]}" --package-path "$(home "$target")" --scratch-path "$(scratch "$target")" --product "$target"
done

status=0
summary=()
for target in "${targets[@]}"; do
    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    fuzz=$(home "$target")/Fuzz
    cp -n "$fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
    options=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-")
    [ -f "$fuzz/$target.dict" ] && options+=(-dict="$fuzz/$target.dict")
    if ((runs > 0)); then
        # Bounded in time too, so a slow machine cannot hold the run forever.
        options+=(-runs="$runs" -max_total_time=3600)
        echo "== fuzz: running $target for $runs inputs"
    else
        options+=(-max_total_time="$seconds")
        echo "== fuzz: running $target for $seconds s"
    fi
    log="$out/$target.log"
    if "$(scratch "$target")/release/$target" "${options[@]}" "$corpus" >"$log" 2>&1; then
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
