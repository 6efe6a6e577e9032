"""Wall time of `make test`, file by file: every unit-test module and every notebook under nbval.

    python benchmarks/bench_test_suite.py [--junit results/test-suite.xml]

Runs `make test` once (with a JUnit report added through PYTEST_ADDOPTS), then
prints the seconds each test file and each notebook took, the slowest cells, and
the total against the goal of 10 minutes on 2 cores. Prints measured figures only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, default=ROOT / "results" / "test-suite.xml")
    parser.add_argument("--slowest", type=int, default=8, help="how many slow cells to name")
    args = parser.parse_args(argv)
    args.junit.parent.mkdir(parents=True, exist_ok=True)
    args.junit.unlink(missing_ok=True)
    # `make test` itself, with a JUnit report added through PYTEST_ADDOPTS
    env = dict(os.environ, PYTEST_ADDOPTS=f"-p no:cacheprovider --junitxml={args.junit}")
    started = time.perf_counter()
    done = subprocess.run(
        ["make", "--no-print-directory", "test"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if not args.junit.is_file():
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        return 1

    per_file: dict[str, float] = defaultdict(float)
    cells: list[tuple[float, str]] = []
    for case in ElementTree.parse(args.junit).iter("testcase"):
        seconds = float(case.get("time", 0))
        classname = case.get("classname", "")  # "tests.test_data" or "notebooks.01_x.ipynb"
        if classname.endswith(".ipynb"):
            notebook = classname.replace(".", "/", 1)
            per_file[notebook] += seconds
            cells.append((seconds, f"{notebook} {case.get('name')}"))
        else:
            per_file[classname.replace(".", "/") + ".py"] += seconds

    print(f"make test exit code {done.returncode}: {done.stdout.strip().splitlines()[-1]}")
    print(f"{'file':<52} {'seconds':>8}")
    units = {k: v for k, v in per_file.items() if not k.endswith(".ipynb")}
    notebooks = {k: v for k, v in per_file.items() if k.endswith(".ipynb")}
    for name, seconds in sorted(units.items()):
        print(f"{name:<52} {seconds:8.1f}")
    print(f"{'unit tests, all':<52} {sum(units.values()):8.1f}")
    for name, seconds in sorted(notebooks.items()):
        print(f"{name:<52} {seconds:8.1f}")
    print(f"{'notebooks, all':<52} {sum(notebooks.values()):8.1f}")
    print(f"{'total wall time of make test':<52} {wall:8.1f}")
    print("(cell times exclude kernel start-up; the total includes it)")
    print(f"total / goal ({GOAL_SECONDS} s): {wall / GOAL_SECONDS:.2f}")
    print("slowest notebook cells:")
    for seconds, name in sorted(cells, reverse=True)[: args.slowest]:
        print(f"  {seconds:6.1f} s  {name}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
