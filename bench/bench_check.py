"""Benchmark `trackproof check` against its import floor and against brute force, in one run.

- floor: `python -c "import z3, transitions, yaml"`; target (issue #3): `check` (every claim under proofs/ and the
  model check) costs at most 5x the floor. Measured cold (`--no-cache`: every claim proved; the target is judged on
  this) and warm (nothing changed since the last run: results from the cache, docs/adr/005-verdict-cache.md).
  Both with the default --jobs (the cores available; the machine's count is printed).
- brute force: the simulator alone over every combination of the settings that matter to each forum claim (the
  settings some rule path reads, which the prover identifies; the rest cannot change the outcome). Where that is more
  than --cap runs, the time is measured on --cap runs and extrapolated, and the output says so. Target: `check` of the
  forum claims at least 20x faster than brute force. Brute force over the full scope (about 10^8 configurations per
  claim) is out of reach; the sizes are printed.
Usage: python bench/bench_check.py [--repeat N] [--cap N]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, ensure_bytecode, trackproof_command

ROOT = Path(__file__).resolve().parent.parent




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=int, default=3000, help="brute-force runs measured per claim at most")
    args = parser.parse_args()
    ensure_bytecode()
    command = trackproof_command()
    floor = best_of([sys.executable, "-c", "import z3, transitions, yaml"], args.repeat)
    everything = best_of([*command, "check", "--no-cache"], args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TRACKPROOF_CACHE"] = folder
        os.environ.pop("TRACKPROOF_NO_CACHE", None)
        best_of([*command, "check"], 1)  # fills the cache
        warm = best_of([*command, "check"], args.repeat)
    forum = ROOT / "proofs" / "forum-claims.yaml"
    forum_time = best_of([*command, "check", "--no-cache", str(forum)], args.repeat)
    from trackproof.parallel import default_jobs

    print(f"floor (import z3, transitions, yaml): {floor * 1000:.0f} ms; cores available: {default_jobs()}")
    print(f"trackproof check (proofs/ and the model), cold: {everything * 1000:.0f} ms = {everything / floor:.1f}x "
          "the floor (target: at most 5x)")
    print(f"trackproof check, warm (unchanged since the last run): {warm * 1000:.0f} ms = {warm / floor:.1f}x")
    print(f"trackproof check --no-cache proofs/forum-claims.yaml: {forum_time * 1000:.0f} ms")

    from trackproof.prove.brute import assignments, domain, evaluate
    from trackproof.prove.verdict import prove_claim
    from trackproof.spec.claims import load_claims
    from trackproof.spec.loader import load_model

    model = load_model()
    brute_total = 0.0
    extrapolated = False
    for claim in load_claims(forum, model):
        space = prove_claim(model, claim).space
        relevant = [s for s in space.vars if s in space.read or s[1] == "kind"]
        size = math.prod(len(domain(model, claim, s)) for s in relevant)
        full = math.prod(len(domain(model, claim, s)) for s in space.vars)
        start = time.perf_counter()
        done = 0
        for a in assignments(model, claim, relevant):
            evaluate(model, claim, a)
            done += 1
            if done >= args.cap:
                break
        spent = time.perf_counter() - start
        estimate = spent * size / done
        extrapolated = extrapolated or done < size
        brute_total += estimate
        note = "" if done == size else f" (measured on {done}, extrapolated)"
        print(f"  {claim.id:7s} relevant configurations {size:>7}, full scope {full:.1e}: brute force "
              f"{estimate:7.2f} s{note}")
    ratio = brute_total / forum_time
    print(f"brute force over the forum claims' relevant settings: {brute_total:.1f} s"
          f"{' (partly extrapolated)' if extrapolated else ''}; check is {ratio:.0f}x faster (target: at least 20x)")
    return 0 if everything <= 5 * floor and ratio >= 20 else 1


if __name__ == "__main__":
    sys.exit(main())
