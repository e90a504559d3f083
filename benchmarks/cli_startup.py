"""CLI start-up: how long ``uqbridge propagate ishigami -n 1000000000`` takes to refuse (issue #31: < 2 s).

    python benchmarks/cli_startup.py [--runs 5] [-n 1000000000]

Runs the refusal both as ``python -m uqbridge ...`` and as the installed ``uqbridge`` script (when it is
on PATH), each ``--runs`` times in a fresh process, and prints min/median/max of the wall time and of the
process's CPU time (user + system), with the machine's load average before and after (wall times on a
shared machine are inflated; CPU time is not). Every run must exit with status 2 and the memory estimate.
Then ``python -X importtime`` of the same command lists the slowest top-level imports, to show where the
remaining time goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def one_run(command: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of ``command``, which must refuse with the memory estimate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 2 or "not enough memory" not in proc.stderr:
        raise SystemExit(f"{command}: expected exit 2 with the memory estimate, got {proc.returncode}: "
                         f"{proc.stderr.strip()[-500:]}")
    return wall, cpu


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f}  median {statistics.median(values):.2f}  max {max(values):.2f}"


def slowest_imports(command: list[str], top: int = 8) -> list[str]:
    """The ``top`` slowest top-level imports (cumulative µs) of ``command``, from ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True, timeout=120)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, _, cumulative, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
            if cumulative.isdigit() and not name.startswith(" "):
                rows.append((int(cumulative), name))
    slowest: dict[str, int] = {}
    for us, name in rows:
        if "." not in name or name.startswith("uqbridge"):
            slowest[name] = max(us, slowest.get(name, 0))
    ranked = sorted(((us, name) for name, us in slowest.items()), reverse=True)[:top]
    return [f"{us / 1e3:8.1f} ms  {name}" for us, name in ranked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("-n", type=int, default=1_000_000_000)
    args = parser.parse_args()
    tail = ["propagate", "ishigami", "-n", str(args.n)]
    commands = {"python -m uqbridge": [sys.executable, "-m", "uqbridge", *tail]}
    script = shutil.which("uqbridge")
    if script is not None:
        commands["uqbridge (script)"] = [script, *tail]
    else:
        print("the `uqbridge` script is not on PATH (pip install -e .); timing python -m uqbridge only")
    print(f"uqbridge {' '.join(tail)}: {args.runs} runs each; {os.cpu_count()} cores, "
          f"load average before {os.getloadavg()[0]:.2f}")
    for label, command in commands.items():
        walls, cpus = zip(*(one_run(command) for _ in range(args.runs)))
        print(f"{label:<20} wall s: {spread(list(walls))}   CPU s: {spread(list(cpus))}   "
              f"{'PASS' if statistics.median(walls) < 2.0 else 'FAIL'} (< 2 s)")
    print(f"load average after {os.getloadavg()[0]:.2f}")
    print("slowest top-level imports of the refusal (python -X importtime, cumulative):")
    print("\n".join("  " + row for row in slowest_imports(["-m", "uqbridge", *tail])))


if __name__ == "__main__":
    main()
