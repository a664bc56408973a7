"""Benchmark `trackproof report proofs/forum-claims.yaml` (the review pack, HTML and Markdown) next to the import
floor `python -c "import z3, transitions, yaml"` and next to the commands it does the work of, in one run.

Target (issue #16): the pack within 10x the floor with Graphviz's `dot`. Measured cold (`--no-cache`: every claim
proved, the model checked, the missed scenarios found and every picture drawn afresh) and warm (nothing changed
since the last run: results, missed scenarios and pictures from the cache, in a cache folder of its own), with the
default --jobs; and, for scale, `check --model` and `gaps` of the same claims cold, and `diagrams` with `dot`.
Usage: python bench/bench_report.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, ensure_bytecode, trackproof_command

ROOT = Path(__file__).resolve().parent.parent
FORUM = str(ROOT / "proofs" / "forum-claims.yaml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("dot"):
        print("Graphviz's dot is not installed here: the target is judged with dot; not measured")
        return 1
    ensure_bytecode()
    command = trackproof_command()
    work = Path(tempfile.mkdtemp())
    os.environ["TRACKPROOF_CACHE"] = str(work / "cache")  # its own cache: warm means warmed here
    os.environ.pop("TRACKPROOF_NO_CACHE", None)
    floor = best_of([sys.executable, "-c", "import z3, transitions, yaml"], args.repeat)
    print(f"floor (import z3, transitions, yaml): {floor * 1000:.0f} ms; {os.cpu_count()} cores")
    report = [*command, "report", FORUM, "-o", str(work / "pack"), "--renderer", "dot"]
    cold = best_of([*report, "--no-cache"], args.repeat)
    best_of(report, 1)  # fills the cache
    warm = best_of(report, args.repeat)
    for name, spent in (("report, cold (--no-cache)", cold), ("report, warm (cache)", warm)):
        print(f"{name}: {spent * 1000:.0f} ms = {spent / floor:.1f}x the floor (target: within 10x)")
    parts = {"check --model, cold": [*command, "check", FORUM, "--model", "--no-cache", "--exit-zero"],
             "gaps": [*command, "gaps", FORUM],
             "diagrams with dot (all formats)": [*command, "diagrams", "--renderer", "dot", "--out", str(work / "d")]}
    total = 0.0
    for name, cmd in parts.items():
        spent = best_of(cmd, args.repeat)
        total += spent
        print(f"  for scale, {name}: {spent * 1000:.0f} ms = {spent / floor:.1f}x")
    print(f"  the three commands one after the other: {total * 1000:.0f} ms; report cold does their work and lays "
          f"out the pack in {cold * 1000:.0f} ms")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if warm <= 10 * floor else 1


if __name__ == "__main__":
    sys.exit(main())
