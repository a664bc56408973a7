"""Term reuse across the runs of one claim: a speed-up of the rule-path enumeration, apart from its algorithm.

Runs of one claim share prefixes (the same decisions, hence the same world), and many expressions read only
settings, so most terms a run needs were built by an earlier run (ADR 006). A TermCache serves them:
- a term that reads only settings (no mail, no message, no member of a list) is the same after any decisions: it is
  kept per claim, keyed by the kinds' classes, the names it is given and the settings events changed;
- any other term is kept by the decisions recorded before it (the run's prefix) and, failing that, found again
  when everything its building read of the world reads the same here (its ReadLog);
- the atom `term == value` is made once per term and value.
NoReuse builds every term afresh. Both give the same path conditions up to Z3's own sharing of nodes, hence the
same verdicts, holds_when and counterexamples (tests/test_prove.py compares them over proofs/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import z3

from ..simulate.world import World
from ..spec.expr import PARTY_SET, Expr
from ..spec.ir import Model
from .scope import Space
from .terms import Read, candidates
from .z3api import eq


@dataclass(frozen=True)
class Entry:
    """A term as built at one point of a run: the pins and definitions its building added, and the fields set by
    effects (message, field) that it read, which the path condition must then rest on."""

    term: z3.ExprRef
    pins: tuple[z3.BoolRef, ...]
    definitions: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Point:
    """Where in a run an expression is evaluated: the decisions before it (`prefix`), the kinds' classes the world
    was built with (`shape`), the expression, the email, actor and event it is evaluated for, its role, and the
    names its environment gives."""

    prefix: int
    shape: int
    expr: Expr
    email: Any
    actor: Any
    event: str
    role: str
    names: tuple[tuple[str, Any], ...]


class TermReuse(Protocol):
    def find(self, point: Point, world: World, event: dict[str, Any]) -> Entry | None:
        """A term built before for this point, if it is this one here."""

    def keep(self, point: Point, world: World, entry: Entry, reads: list[Read]) -> None:
        """Keep a term just built at this point, with what its building read."""

    def pin(self, entry: Entry, typ: str, value: Any, space: Space) -> z3.BoolRef:
        """The atom `term == value`."""


class NoReuse:
    """Every term built afresh (the switch that shows reuse changes no answer)."""

    def find(self, point: Point, world: World, event: dict[str, Any]) -> Entry | None:
        return None

    def keep(self, point: Point, world: World, entry: Entry, reads: list[Read]) -> None:
        return None

    def pin(self, entry: Entry, typ: str, value: Any, space: Space) -> z3.BoolRef:
        return eq(entry.term, space.const(value, typ))


class TermCache:
    """Terms kept across the runs of one claim (the module docstring says which)."""

    def __init__(self, model: Model, space: Space) -> None:
        self.model = model
        self.space = space
        self._settings_only: dict[int, bool] = {}  # expression id -> reads only settings
        self._terms: dict[tuple[Any, ...], Entry] = {}
        # (shape, the point without its prefix) -> (what the term's building read of the world, the entry)
        self._by_reads: dict[tuple[Any, ...], list[tuple[tuple[Read, ...], Entry]]] = {}
        self._pins: dict[tuple[int, str, str], z3.BoolRef] = {}  # (id of a kept term, type, value) -> the atom

    def _key(self, point: Point, world: World) -> tuple[Any, ...]:
        step = (id(point.expr), point.email, point.actor, point.event, point.role)
        if not reads_settings_only(self.model, point.expr, self._settings_only):
            return (point.prefix, *step)
        # Such a term depends on the kinds' classes, the names it is given and which settings events changed (and
        # to what), not on the prefix: it is built once per claim, not once per rule path.
        changed = tuple(sorted((o, n, world.org[n] if o == "org" else world.parties[o].kind if n == "kind"
                                else world.parties[o].settings.get(n)) for o, n in world.overwritten))
        return ("settings", point.shape, *step, point.names, changed)

    @staticmethod
    def _group(point: Point) -> tuple[Any, ...]:
        return (id(point.expr), point.email, point.actor, point.event, point.role, point.names)

    def find(self, point: Point, world: World, event: dict[str, Any]) -> Entry | None:
        key = self._key(point, world)
        found = self._terms.get(key)
        if found is None and key[0] != "settings":
            # The same expression at the same point of another run, after other decisions: its term is this one if
            # everything its building read of the world reads the same here (asked without the reads counting as
            # the run's: a read only settles which term this is).
            with world.unobserved():
                found = next((entry for log, entry in self._by_reads.get(self._group(point), ())
                              if same_reads(world, log, event)), None)
            if found is not None:
                self._terms[key] = found
        return found

    def keep(self, point: Point, world: World, entry: Entry, reads: list[Read]) -> None:
        key = self._key(point, world)
        self._terms[key] = entry
        if key[0] != "settings":
            self._by_reads.setdefault(self._group(point), []).append((tuple(reads), entry))

    def pin(self, entry: Entry, typ: str, value: Any, space: Space) -> z3.BoolRef:
        key = (id(entry.term), typ, repr(value))  # the term is kept in _terms: its id is not reused
        found = self._pins.get(key)
        if found is None:
            found = self._pins[key] = eq(entry.term, space.const(value, typ))
        return found


def same_reads(world: World, log: tuple[Read, ...], event: dict[str, Any]) -> bool:
    """Whether every read in `log` gives the same value in `world` (a read of something this world does not have
    gives no value)."""
    try:
        for (what, *key), value in log:
            if what == "get":
                owner, obj, name, email = key
                now = world.get(owner, obj, name, {"email": email, "__event": event, "__assumed": None})
            elif what == "overwritten":
                now = key[0] in world.overwritten
            elif what == "candidates":
                now = candidates(world, key[0], key[1])
            else:
                now = world.org[key[0]]
            if now != value:
                return False
    except (KeyError, AttributeError):
        return False
    return True


def reads_settings_only(model: Model, e: Expr, memo: dict[int, bool]) -> bool:
    """Whether `e` reads nothing but settings (of the org or of parties) and the names it is given: no email field,
    no copy of a mailbox, no event, no members of a list. Such a term is the same in every world with the same
    settings."""
    key = id(e)
    found = memo.get(key)
    if found is not None:
        return found
    kind = e.kind
    if kind in ("const", "var", "set"):
        found = True
    elif kind == "attr":
        groups = model.vocabulary.groups
        # the party must be a name given: a party computed from settings is evaluated on this run's values and
        # pinned to them, which the settings-only key does not hold
        found = e.owner in ("org", "reading") or (e.owner == "party" and (str(e.value) in groups["party"] or
                                                             str(e.value) in groups["mailbox"])
                                     and e.args[0].kind in ("var", "const"))
    elif kind in ("quant", "first", "select") or (kind == "cmp" and e.args[1].type == PARTY_SET):
        found = False
    elif kind == "call":  # arguments too are evaluated on this run's values: only names given or constants
        found = all(a.kind in ("var", "const") for a in e.args) and reads_settings_only(
            model, model.definitions[str(e.value)].body, memo)
    else:
        found = all(reads_settings_only(model, a, memo) for a in e.args)
    memo[key] = found
    return found
