#!/usr/bin/env python3
"""Summarises an Autobahn|Testsuite report (index.json): counts per result, the cases that
FAILED (behavior or close behavior), and exits 1 if there is any."""
import json
import sys
from collections import Counter

report = json.load(open(sys.argv[1]))
seconds = sys.argv[2] if len(sys.argv) > 2 else "?"
failed = []
counts = Counter()
for agent, cases in report.items():
    for case, result in sorted(cases.items(), key=lambda item: [int(part) for part in item[0].split(".")]):
        counts[result["behavior"]] += 1
        if result["behavior"] == "FAILED" or result.get("behaviorClose") == "FAILED":
            failed.append(f"{case}: {result['behavior']} (close {result.get('behaviorClose')}) {result.get('reportfile', '')}")
print(f"autobahn: {sum(counts.values())} cases in {seconds} s: " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
for line in failed:
    print("  FAILED " + line)
passed = sum(counts.values()) - len(failed)
print(f"autobahn: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed or not counts else 0)
