#!/usr/bin/env bash
# A new package that depends on UVLoop by path, as a user's would: it must fetch only the
# library's own dependencies (swift-http-types, swift-log; swift-service-lifecycle only with the
# ServiceLifecycle trait), build none of the examples or their tools (argument-parser and its
# plugins), and run. Issue 11 item 7.
#
#   bash scripts/dependent_package_test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/uvloop-dependent.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/Hello"
cat >"$work/Package.swift" <<MANIFEST
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "Hello",
    dependencies: [.package(name: "UVLoop", path: "$root")],
    targets: [.executableTarget(name: "Hello", dependencies: [.product(name: "UVLoop", package: "UVLoop")])]
)
MANIFEST
cat >"$work/Sources/Hello/main.swift" <<'SOURCE'
import UVLoop

// Listens, connects to itself, and prints what came back: the library works from a dependent.
try Loop.run { loop in
    let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    loop.spawn {
        let server = try await listener.accept()
        try server.write((try await server.readLine() ?? "") + "\n")
        try await server.flush()
        server.close()
    }
    let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
    try client.write("hello from a dependent\n")
    print(try await client.readLine() ?? "nothing")
    client.close()
    listener.close()
}
SOURCE
cd "$work"
swift package resolve >"$work/resolve.log" 2>&1 || { cat "$work/resolve.log"; exit 1; }
fetched=$(ls .build/checkouts 2>/dev/null | sort | tr '\n' ' ')
echo "dependent: fetched: ${fetched:-nothing}"
for name in $fetched; do
    case "$name" in
        swift-http-types | swift-log) ;;
        *) echo "dependent: FAILED: a package depending on UVLoop fetched $name" >&2; exit 1 ;;
    esac
done
swift build >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
built=$(ls .build/debug/Modules 2>/dev/null | sed -n 's/\.swiftmodule$//p' | sort | tr '\n' ' ')
echo "dependent: built modules: $built"
for forbidden in ArgumentParser ChatCore ChatExample ServiceLifecycle; do
    if grep -qw "$forbidden" <<<"$built"; then
        echo "dependent: FAILED: building the dependent compiled $forbidden" >&2
        exit 1
    fi
done
out=$(timeout 60 .build/debug/Hello)
[ "$out" = "hello from a dependent" ] || { echo "dependent: FAILED: the program printed '$out'" >&2; exit 1; }
echo "dependent: ok: fetched only the library's dependencies, built no example, and ran"
