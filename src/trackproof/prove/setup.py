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
    from ..simulate.engine import engine
    from ..simulate.world import World

    space = Space(model, claim, emails_of(claim))
    out = list(space.background)
    world = World(model, claim.scenario)
    builder = Builder(space, ReadLog(world), engine(model).compiler)
    env: dict[str, Any] = {"org": None, "email": None, "__event": {}, "__used": None, "__assumed": None,
                           "__world": world, **{pid: pid for pid in claim.scenario.participants}}
    for c in model.vocabulary.constraints:
        for pid, p in claim.scenario.participants.items():
            if p.kind in ("user", "queue") or (pid, "kind") in space.vars:
                out.append(builder.term(c.expr, {**env, "p": pid}))
    if claim.assume is not None:
        out.append(builder.term(claim.assume, env))
    if reuse is None:
        reuse = not os.environ.get("TRACKPROOF_NO_REUSE")
    return Setup(space, tuple(out + builder.pins), TermCache(model, space) if reuse else NoReuse())
