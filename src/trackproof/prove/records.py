"""What is said of a claim, as records: the verdict's kind, the portable Verdict (what reports read; it pickles to
another process and into the results cache) and the Proof behind it (the Z3 state, this process only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import z3

from ..simulate.outcomes import Outcome
from ..spec.claims import Claim, Setting
from ..spec.scenario import Event
from .rulepaths import PathRun
from .scope import Space
from .sensitivity import Assumption, ReadingVerdict


class Kind(StrEnum):
    PROVED = "proved"
    VIOLATED = "violated"
    VACUOUS = "vacuous"  # the premise can never happen: nothing is proved
    UNKNOWN = "unknown"  # the solver gave up: never reported as proved


@dataclass(frozen=True)
class ScopeView:
    """What reports read of a claim's scope: its free settings (in order) and their defaults."""

    settings: tuple[Setting, ...]
    defaults: dict[Setting, Any]

    def label(self, setting: Setting) -> str:
        return f"{setting[0]}.{setting[1]}"


@dataclass(frozen=True)
class Example:
    """A counterexample: the settings it runs under and the outcome of every email."""

    settings: dict[Setting, Any]
    outcomes: dict[str, Outcome]
    events: tuple[Event, ...] | None = None  # a universe claim's: the sequence (else the premise's events)


@dataclass(frozen=True)
class Verdict:
    """What is said of a claim (docs/claims.md), without Z3 objects."""

    claim: Claim
    verdict: Kind
    holds_under_defaults: bool | None
    holds_when: list[dict[str, list[Any]]] | None  # cubes; [] is never, [{}] is always; None: too many (unknown)
    counterexample: Example | None
    rules: tuple[str, ...]
    confidence: str
    reason: str  # for unknown: the solver's reason; for vacuous: why the premise cannot happen
    scope: ScopeView
    rule_paths: int  # for a universe claim: the rule paths of single events taken (its transitions)
    others: tuple[Example, ...] = ()  # more counterexamples, each failing another way (prove_claim's `examples`)
    worlds: int = 0  # a universe claim's reachable worlds
    depth: int = 0  # a universe claim's fixpoint: after this many events, nothing new is reached
    # a universe claim's interchangeable participants: the groups its renamings move, and how many renamings there
    # are besides the identity (symmetry.py); worlds that differ only by one of them were merged
    interchangeable: tuple[tuple[str, ...], ...] = ()
    renamings: int = 0
    witness: Example | None = None  # `reachable`: the shortest sequence to it, closest to the defaults
    # the verdict under each reading of the disputed points the runs read (the verdict itself is the default's)
    readings: tuple[ReadingVerdict, ...] = ()
    assumes: tuple[Assumption, ...] = ()  # uncertain defaults the answer under the defaults rests on


@dataclass(frozen=True)
class Proof:
    """A verdict and the Z3 state it was decided from (this process only)."""

    verdict: Verdict
    space: Space
    base: tuple[z3.BoolRef, ...]  # the scope's constraints
    paths: list[PathRun] = field(default_factory=list)
    holds_region: z3.BoolRef | None = None  # the settings under which the claim holds (or cannot happen)
    bad_region: z3.BoolRef | None = None  # within base, the settings under which the claim does not hold
    # holds_region again, in far smaller formulas: holds_when's cubes (exact where the premise can happen) or the
    # paths where it cannot; None where there are no cubes (more than MAX_CUBES)
    holds_simply: z3.BoolRef | None = None
