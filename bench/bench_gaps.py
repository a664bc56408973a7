"""Benchmark `trackproof gaps proofs/forum-claims.yaml` (and `diff` of the defaults with AutoTrackSentFolderItems
on) next to the import floor `python -c "import z3, transitions, yaml"`, in one run.
Target (issue 14): gaps within 30x the floor, explored afresh (--no-cache); the cached answer is shown too.
Usage: python bench/bench_gaps.py [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, ensure_bytecode, trackproof_command

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_bytecode()
    command = trackproof_command()
    floor = best_of([sys.executable, "-c", "import z3, transitions, yaml"], args.repeat)
    gaps = best_of([*command, "gaps", "--no-cache", str(ROOT / "proofs" / "forum-claims.yaml")], args.repeat)
    warm = best_of([*command, "gaps", str(ROOT / "proofs" / "forum-claims.yaml")], args.repeat)
    settings = ROOT / "examples" / "settings"
    pair = [str(settings / "defaults.yaml"), str(settings / "auto-track-sent-items.yaml")]
    diff = best_of([*command, "diff", "--no-cache", *pair], args.repeat)
    warm_diff = best_of([*command, "diff", *pair], args.repeat)
    print(f"floor (import z3, transitions, yaml): {floor * 1000:.0f} ms")
    print(f"trackproof gaps proofs/forum-claims.yaml: {gaps * 1000:.0f} ms = {gaps / floor:.1f}x the floor "
          "(target: within 30x)")
    print(f"trackproof gaps proofs/forum-claims.yaml, cached: {warm * 1000:.0f} ms = {warm / floor:.1f}x the floor")
    print(f"trackproof diff defaults auto-track-sent-items (explored afresh): {diff * 1000:.0f} ms = "
          f"{diff / floor:.1f}x the floor; cached: {warm_diff * 1000:.0f} ms = {warm_diff / floor:.1f}x")
    return 0 if gaps <= 30 * floor else 1


if __name__ == "__main__":
    sys.exit(main())
