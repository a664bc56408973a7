"""Benchmark `trackproof run` on every example against the import floor `python -c "import transitions, yaml"`.

Target (issue #2): each run costs at most 2x the floor. Wall time, best of --repeat runs, measured in one process
run so both numbers see the same machine. Usage: python bench/bench_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, ensure_bytecode, trackproof_command

ROOT = Path(__file__).resolve().parent.parent




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ensure_bytecode()
    command = trackproof_command()
    print(f"command: {' '.join(command)} run FILE (the console script when installed, as users run it)")
    floor = best_of([sys.executable, "-c", "import transitions, yaml"], args.repeat)
    print(f"floor (import transitions, yaml): {floor * 1000:.1f} ms")
    ratios = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        t = best_of([*command, "run", str(path)], args.repeat)
        ratios.append(t / floor)
        print(f"{path.name:55s} {t * 1000:7.1f} ms  {t / floor:4.2f}x")
    worst = max(ratios)
    print(f"median {statistics.median(ratios):.2f}x, worst {worst:.2f}x the floor (target: at most 2.00x)")
    return 0 if worst <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
