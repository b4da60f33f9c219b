#!/usr/bin/env python
"""Run every ``bench/bench_*.py`` found next to this file, one after the other, with the current
environment (``DATABASE_URL`` picks the database). Extra arguments are passed to each bench.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_scale .venv/bin/python bench/run_all.py
    make bench

Exit status: 0 when every bench met its targets, 1 otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    benches = sorted(HERE.glob("bench_*.py"))
    if not benches:
        print("bench/ 下没有 bench_*.py")
        return 0
    failed: list[str] = []
    for path in benches:
        print(f"\n######## {path.name}", flush=True)
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, str(path), *sys.argv[1:]], cwd=HERE.parent)
        print(f"######## {path.name}: exit {rc}, {time.perf_counter() - started:.1f} s", flush=True)
        if rc != 0:
            failed.append(path.name)
    if failed:
        print(f"\n未达标或失败 missed targets / failed: {', '.join(failed)}")
        return 1
    print("\n全部达标 all benches met their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
