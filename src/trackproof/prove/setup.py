"""The setup every query about a claim starts from (check, gaps, diff): its Space, the formulas its scope assumes,
and how its runs reuse terms."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import z3

from ..spec.claims import Claim
from ..spec.ir import Model
from ..spec.scenario import email_ids
from ..spec.universe import universe_emails
from .reuse import NoReuse, TermCache, TermReuse
from .scope import Space
from .terms import Builder, ReadLog


@dataclass(frozen=True)
class Setup:
    """What every query about a claim starts from: its Space, the formulas the scope assumes, and how its runs
    reuse the terms they build (reuse.py; NO_REUSE builds every term afresh, with the same answers)."""

    space: Space
    base: tuple[z3.BoolRef, ...]
    reuse: TermReuse


def emails_of(claim: Claim) -> list[str]:
    """The emails a claim's premise creates, in order (a universe's: every id its messages may have)."""
    if claim.universe is not None:
        return universe_emails(claim.universe)
    return email_ids(claim.scenario.events)


def prepare(model: Model, claim: Claim, reuse: bool | None = None) -> Setup:
    """The claim's Space and base: the vocabulary's constraints on each participant that may have a mailbox, and
    the claim's own `assume`, as Z3 formulas over the free settings. `reuse`: whether runs reuse terms across
    runs (None: yes, unless the environment sets TRACKPROOF_NO_REUSE)."""
    space = Space(model, claim, emails_of(claim))
    terms, pins = _scope_terms(model, claim, space)
    if reuse is None:
        reuse = not os.environ.get("TRACKPROOF_NO_REUSE")
    return Setup(space, tuple([*space.background, *(t for _, t in terms), *pins]),
                 TermCache(model, space) if reuse else NoReuse())


ASSUMED = "the claim's assume"


def _scope_terms(model: Model, claim: Claim, space: Space) -> tuple[list[tuple[str, z3.BoolRef]], list[z3.BoolRef]]:
    """The scope's constraints, each with what it says in words, and the pins the terms rest on."""
    from ..simulate.engine import engine
    from ..simulate.world import World

    world = World(model, claim.scenario)
    builder = Builder(space, ReadLog(world), engine(model).compiler)
    env: dict[str, Any] = {"org": None, "email": None, "__event": {}, "__used": None, "__assumed": None,
                           "__world": world, **{pid: pid for pid in claim.scenario.participants}}
    out: list[tuple[str, z3.BoolRef]] = []
    for c in model.vocabulary.constraints:
        for pid, p in claim.scenario.participants.items():
            if p.kind in ("user", "queue") or (pid, "kind") in space.vars:
                out.append((f"{c.says} ({pid}; {c.id})", builder.term(c.expr, {**env, "p": pid})))
    if claim.assume is not None:
        out.append((ASSUMED, builder.term(claim.assume, env)))
    return out, builder.pins


def why_no_setting(model: Model, claim: Claim) -> str:
    """Why no setting is in the claim's scope ('' when one is): the constraints its fixed settings break."""
    from .z3api import SAT, add, check, new_solver

    space = Space(model, claim, emails_of(claim))
    terms, pins = _scope_terms(model, claim, space)
    solver = new_solver()
    add(solver, [*space.background, *pins])
    if check(solver, *(t for _, t in terms)) == SAT:
        return ""
    broken = [says for says, term in terms if check(solver, term) != SAT]
    if broken == [ASSUMED]:
        return f"no setting is in the claim's scope: {ASSUMED} can never hold there"
    what = "; ".join(broken) if broken else "the vocabulary's constraints and the claim's assume, together"
    return f"no setting is in the claim's scope: its fixed settings break {what}"
