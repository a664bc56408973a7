"""`trackproof check` at two commits, on the same claim files: time (interleaved runs) and whether the answers are
the same, in one run.

Each commit is checked out into a temporary git worktree and run from its own source tree (`python -m trackproof`
with PYTHONPATH=<worktree>/src) with the Python running this script (which must have trackproof's dependencies),
`check --no-cache --jobs 1 --format json` on the claim files of the OLDER commit (so that both decide the same
claims). The runs alternate (A B, B A, ...) so that a machine busy with other work slows both alike; min and median
are printed, and their ratios. The JSON outputs are compared whole, then with the keys given by --ignore left out
(by default `rule_paths`: issue 12 makes rule paths distinguish only what can change an answer, so their count
changes by design while verdicts, conditions and counterexamples must not).

Usage: python bench/compare_check.py OLD NEW [--repeat N] [--ignore KEY ...]
Example (issue 12, the scale work): python bench/compare_check.py 7c3dbdf 0a0d51b --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _strip(value: Any, ignore: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, ignore) for k, v in value.items() if k not in ignore}
    if isinstance(value, list):
        return [_strip(v, ignore) for v in value]
    return value


def _run(tree: Path, files: list[str]) -> tuple[float, bytes]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "trackproof", "check", "--no-cache", "--jobs", "1", "--format",
                           "json", *files], env=env, cwd=tree, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"check failed in {tree} (exit {done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ignore", nargs="*", default=["rule_paths"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for name, rev in (("old", args.old), ("new", args.new)):
            trees[name] = Path(tmp) / name
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(trees[name]), rev],
                           check=True)
        try:
            files = sorted(str(p.relative_to(trees["old"])) for p in (trees["old"] / "proofs").glob("*.yaml"))
            times: dict[str, list[float]] = {"old": [], "new": []}
            outputs: dict[str, bytes] = {}
            for i in range(args.repeat):
                for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
                    seconds, outputs[name] = _run(trees[name], files)
                    times[name].append(seconds)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    print(f"check --no-cache --jobs 1 of {', '.join(files)} (the claim files of {args.old}), {args.repeat} runs each")
    for name, rev in (("old", args.old), ("new", args.new)):
        t = times[name]
        print(f"  {rev}: min {min(t):.2f} s, median {statistics.median(t):.2f} s")
    print(f"  new/old: {min(times['new']) / min(times['old']):.2f} by min, "
          f"{statistics.median(times['new']) / statistics.median(times['old']):.2f} by median")
    same = outputs["old"] == outputs["new"]
    print(f"  JSON output byte-identical: {'yes' if same else 'no'}")
    if not same:
        a, b = (_strip(json.loads(outputs[n]), set(args.ignore)) for n in ("old", "new"))
        print(f"  identical without {', '.join(args.ignore) or 'nothing'}: {'yes' if a == b else 'no'}")


if __name__ == "__main__":
    main()
