"""A level's steps asked on several processes (prove/levels.py): the same exploration and the same verdict as one
process, and the formulas sent back from a worker (prove/portable.py) are the terms the worker had."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from trackproof.parallel import can_fork
from trackproof.prove import levels, reach
from trackproof.prove.portable import Packer, Unpacker
from trackproof.prove.setup import prepare
from trackproof.prove.steps import Stepper
from trackproof.prove.verdict import prove_claim
from trackproof.spec.claims import Claim, load_claims
from trackproof.spec.ir import Model

from .conftest import ROOT

UNIVERSES = ROOT / "tests" / "claims" / "universes.yaml"
INVARIANTS = ROOT / "proofs" / "invariants.yaml"


def _claim(model: Model, path: Path, cid: str) -> Claim:
    return next(c for c in load_claims(path, model) if c.id == cid)


def _pins(model: Model, claim: Claim) -> list[z3.BoolRef]:
    """Every pin the exploration of `claim` made, in order (each once)."""
    seen: dict[int, z3.BoolRef] = {}
    step = Stepper.step

    def watched(self: Stepper, *args: object, **kwargs: object) -> list[object]:
        runs = step(self, *args, **kwargs)  # type: ignore[arg-type]
        for run in runs:
            seen.update((p.get_id(), p) for p in run.pins)
        return runs  # type: ignore[return-value]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Stepper, "step", watched)
        reach.explore(model, claim, prepare(model, claim))
    return list(seen.values())


def test_formulas_read_back_are_the_very_terms_written(model: Model) -> None:
    claim = _claim(model, INVARIANTS, "INV-U-outlook-delete-keeps-activity")
    pins = _pins(model, claim)
    assert len(pins) > 20
    packer = Packer()
    at = [packer.pack(p) for p in pins]
    # the table is plain data: what a worker's result pickles into
    assert all(isinstance(n, tuple) and all(isinstance(x, str | int) for x in n) for n in packer.nodes)
    unpacker = Unpacker(list(packer.nodes))
    for pin, index in zip(pins, at, strict=True):
        back = unpacker.formula(index)
        assert back.get_id() == pin.get_id(), (pin, back)  # the same node: Z3 shares one per term


def test_a_term_the_prover_never_builds_is_refused_not_approximated() -> None:
    x = z3.Int("x")
    with pytest.raises(ValueError, match="not a term the prover builds"):
        Packer().pack(x + 1 > 2)


def test_chunks_cover_the_level_in_order_with_about_as_many_events_each() -> None:
    level = [levels.Expanding(None, (), z3.BoolVal(True), frozenset(), tuple(range(n)))  # type: ignore[arg-type]
             for n in (5, 1, 1, 1, 8, 2, 2, 0, 3)]
    chunks = levels._chunks(level, 4)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(level)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    assert len(chunks) <= 4


@pytest.mark.skipif(not can_fork(), reason="workers are forked processes (Linux)")
@pytest.mark.parametrize(("path", "cid"), [(UNIVERSES, "uni-untracked-outlook-with-queue"),
                                           (UNIVERSES, "uni-any-reply-to-crm-email"),
                                           (INVARIANTS, "INV-U-outlook-delete-keeps-activity")])
def test_two_processes_find_what_one_finds(model: Model, path: Path, cid: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Every level with steps goes to workers (the least is lowered to 1 step): the worlds, their keys and order,
    the settings reaching each, and the verdict are those of one process."""
    claim = _claim(model, path, cid)
    one = reach.explore(model, claim, prepare(model, claim), jobs=1)
    monkeypatch.setattr(levels, "LEAST_FOR_WORKERS", 1)
    two = reach.explore(model, claim, prepare(model, claim), jobs=2)
    assert [n.key for n in one.nodes] == [n.key for n in two.nodes]
    assert (one.transitions, one.rules, one.depth) == (two.transitions, two.rules, two.depth)
    solver = z3.Solver()
    for a, b in zip(one.nodes, two.nodes, strict=True):
        assert solver.check(a.condition != b.condition) == z3.unsat, a.key
        assert [x.depth for x in a.arrivals] == [x.depth for x in b.arrivals]
    assert repr(prove_claim(model, claim, jobs=1).verdict) == repr(prove_claim(model, claim, jobs=2).verdict)
