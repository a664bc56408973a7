"""Benchmark the exploration of every event sequence (universe claims, issue 13), in one run:

1. the invariant "an untracked Outlook email never appears in CRM" over the universe {X user, Y user, Q queue,
   C of any outside kind, at most 2 messages} and over {X, C, at most 3 messages}, every setting free: wall time
   on this machine's cores (`--jobs`), reachable worlds, transitions, fixpoint depth (target: each decided exactly
   within 60 s);
2. the same universes over a reduced scope of 32 setting combinations, next to brute force through the simulator
   alone, with the same verdicts required:
   - brute force by worlds: every concrete setting, every event sequence, each world visited once (measured);
   - brute force by sequences: every concrete setting x every event sequence of up to 5 events, none merged. Its
     sequences are counted exactly on the worlds' graph, and its time is that count x the measured cost of one
     event (running them all would take hours); target: the exploration at least 100x faster;
3. interchangeable participants (ADR 017): the invariant over {X user, Y user, C of any outside kind, at most 2
   messages} in which X and Y are interchangeable (proofs/invariants.yaml), explored with the worlds that differ
   only by swapping them merged and without: wall time, worlds, transitions, the same verdict and condition.
Usage: python bench/bench_behaviours.py [--only ID ...] [--sequences N] [--jobs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from trackproof.parallel import default_jobs
from trackproof.prove.behaviours import prove_universe
from trackproof.prove.brute import allowed, play_each, scope_points, universe_run, universe_verdict
from trackproof.prove.rulepaths import premise_under
from trackproof.prove.verdict import prove_claim
from trackproof.simulate.engine import Simulator
from trackproof.simulate.state import capture, observable
from trackproof.spec.claims import Claim, Setting, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model

ROOT = Path(__file__).resolve().parent.parent
UNIVERSES = ROOT / "bench" / "universes.yaml"
INVARIANTS = ROOT / "proofs" / "invariants.yaml"
SYMMETRIC = "INV-U-untracked-outlook-two-users"


def graph(model: Model, claim: Claim, settings: dict[Setting, Any]) -> tuple[Any, dict[Any, list[Any]], int]:
    """The worlds' graph under `settings`: its root, each world's successors (one per event the alphabet allows
    there), and how many events were played to build it."""
    assert claim.universe is not None
    scenario = replace(premise_under(claim, settings), events=())
    start = capture(Simulator(model, scenario).world)
    root = observable(start)
    edges: dict[Any, list[Any]] = {}
    stack = [(root, start, 0)]
    played = 0
    while stack:
        here, state, number = stack.pop()
        if here in edges:
            continue
        edges[here] = []
        events = allowed(model, claim, scenario, state, number + 1)
        played += len(events)
        for _, sim in play_each(model, claim, scenario, state, events, number + 1):
            if sim is not None:
                after = capture(sim.world)
                edges[here].append(observable(after))
                stack.append((observable(after), after, number + 1))
    return root, edges, played


def sequences(root: Any, edges: dict[Any, list[Any]], length: int) -> int:
    """How many event sequences of at most `length` events start at `root` (the empty one included)."""

    @cache
    def count(world: Any, left: int) -> int:
        return 1 + (sum(count(s, left - 1) for s in edges[world]) if left else 0)

    return count(root, length)


def full(model: Model, claim: Claim, jobs: int) -> None:
    start = time.perf_counter()
    v = prove_claim(model, claim, jobs=jobs).verdict
    took = time.perf_counter() - start
    mark = "within" if took <= 60 else "OVER"
    print(f"{claim.id}: {v.verdict}, {v.worlds:,} worlds, {v.rule_paths:,} transitions, fixpoint after {v.depth} "
          f"events, every setting free, {jobs} process{'es' if jobs > 1 else ''}: {took:.1f} s ({mark} the 60 s "
          f"target)", flush=True)


def reduced(model: Model, claim: Claim, length: int) -> float:
    start = time.perf_counter()
    proof = prove_claim(model, claim)
    explored = time.perf_counter() - start
    v = proof.verdict
    settings = scope_points(model, claim, proof.space, proof.base)
    start = time.perf_counter()
    runs = [universe_run(model, claim, s) for s in settings]
    by_worlds = time.perf_counter() - start
    brute = universe_verdict(runs)
    start = time.perf_counter()
    count = played = 0
    for s in settings:
        root, edges, n = graph(model, claim, s)
        played += n
        count += sequences(root, edges, length)
    per_event = (time.perf_counter() - start) / max(played, 1)
    by_sequences = count * per_event  # each sequence costs at least its last event, replayed from its prefix
    same = "same verdict" if brute == v.verdict else f"DIFFERENT verdict: brute force says {brute}"
    print(f"{claim.id}: {len(settings)} setting combinations; exploration {v.verdict} in {explored:.2f} s "
          f"({v.worlds:,} worlds); brute force by worlds {brute} in {by_worlds:.1f} s "
          f"({by_worlds / explored:.0f}x); by sequences of up to {length} events: {count:,} sequences x "
          f"{per_event * 1e3:.2f} ms an event = {by_sequences:.0f} s ({by_sequences / explored:.0f}x, target "
          f"100x); {same}", flush=True)
    return by_sequences / explored if brute == v.verdict else 0.0


def merged(model: Model, claim: Claim, jobs: int) -> bool:
    answers = []
    for merge in (True, False):
        start = time.perf_counter()
        v = prove_universe(model, claim, jobs=jobs, merge=merge).verdict
        took = time.perf_counter() - start
        answers.append((v.verdict, v.holds_under_defaults, v.holds_when))
        how = f"merged up to swapping {', '.join(' and '.join(g) for g in v.interchangeable)}" if merge else \
            "nothing merged"
        print(f"{claim.id}, {how}: {v.verdict}, {v.worlds:,} worlds, {v.rule_paths:,} transitions, {took:.1f} s",
              flush=True)
    same = answers[0] == answers[1]
    print(f"{claim.id}: {'the same verdict and condition' if same else 'DIFFERENT answers'} both ways", flush=True)
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=[], metavar="ID", help="only these claims of universes.yaml")
    parser.add_argument("--sequences", type=int, default=5, metavar="N", help="brute force's sequence length")
    parser.add_argument("--jobs", type=int, default=default_jobs(), metavar="N",
                        help="processes for the full universes (default: this machine's cores); the reduced scopes "
                             "are explored on one, as brute force runs on one")
    args = parser.parse_args()
    model = load_model()
    ok = True
    for claim in load_claims(UNIVERSES, model):
        if args.only and claim.id not in args.only:
            continue
        if claim.id.endswith("-reduced"):
            ok = reduced(model, claim, args.sequences) >= 100 and ok
        else:
            full(model, claim, max(1, args.jobs))
    for claim in load_claims(INVARIANTS, model):
        if claim.id == SYMMETRIC and (not args.only or claim.id in args.only):
            ok = merged(model, claim, max(1, args.jobs)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
