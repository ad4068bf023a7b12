"""Mutation testing of the pure core (`make mutation`): mutmut changes the code, the tests must notice.

Mutates lambda_constructs/core/limits.py, sizing.py and config.py (the derived numbers and range
checks every construct relies on) against tests/test_sizing.py and tests/test_core_limits.py
(pure, fast: no CDK). Prints the score. The [tool.mutmut] table in pyproject.toml holds the
configuration. The construct-level mutations found earlier (HTTP `>` vs `>=`, FIFO DLQ type,
FIFO detection, reserved-concurrency boundary) are pinned by fine-grained tests in
tests/test_triggers.py and tests/test_inputs.py instead: mutmut cannot run jsii-backed tests
in reasonable time on two cores.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    start = time.perf_counter()
    run = subprocess.run(["mutmut", "run", "--max-children", "2"], cwd=ROOT, capture_output=True, text=True)
    results = subprocess.run(["mutmut", "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True)
    statuses: dict[str, int] = {}
    for line in results.stdout.splitlines():
        match = re.search(r":\s*(killed|survived|no tests|timeout|suspicious|skipped|segfault)\s*$", line)
        if match:
            statuses[match.group(1)] = statuses.get(match.group(1), 0) + 1
    total = sum(statuses.values())
    if run.returncode not in (0, 1) or not total:
        print(run.stdout[-2000:], run.stderr[-2000:], file=sys.stderr)
        return 1
    killed = statuses.get("killed", 0) + statuses.get("timeout", 0)
    print(f"mutants: {total}, killed: {killed}, score: {killed / total:.1%} ({time.perf_counter() - start:.0f} s)")
    for status, count in sorted(statuses.items()):
        print(f"  {status}: {count}")
    survivors = [
        line.split(":")[0].strip() for line in results.stdout.splitlines() if line.rstrip().endswith("survived")
    ]
    if survivors:
        print("survivors (mutmut show NAME):", ", ".join(survivors[:40]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
