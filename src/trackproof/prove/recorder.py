"""The path condition of one run: the hooks (simulate/hooks.py) through which the prover watches the simulator.

Each time the simulator evaluates a guard, an effect or an action condition (or decides something for its own
bookkeeping), the recorder pins the expression's Z3 term to the value the simulator saw: `term == value`. The
conjunction of the pins is the run's path condition: exactly the settings under which the model takes the same
rule path (ADR 003). Two refinements keep rule paths to what can change an answer:
- a decision whose value only sets a fact is held back until something reads that fact (`read`), or until the run
  ends if the caller reports it: an effect's value (Regarding, accepting entity, correlated email, token), what a
  sync cycle decided for a mailbox's watermark, the class of a participant's kind where only the mail mechanics
  tell it apart (an unknown address, a list). Runs that differ only in what nothing read are one rule path;
- what fixed the fields a term read joins the path condition at once, not held back with the term's own field:
  the value recorded depends on them whether or not anything reads that field.
How a term is obtained (built, or reused from an earlier run) is reuse.py's business, not this module's.
"""

from __future__ import annotations

from typing import Any

import z3

from ..simulate.world import World
from ..spec.expr import Expr
from ..spec.ir import Model
from .reuse import Entry, Point, TermReuse
from .scope import Space
from .terms import Builder, ReadLog, quiet
from .z3api import is_value


def _names(env: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The names an environment gives (parties, emails), without the run's bookkeeping."""
    return tuple(sorted((k, v) for k, v in env.items() if not k.startswith("__") and k not in ("org", "event")))


class PathRecorder:
    """The pins of one run, in the order they were recorded (the Hooks the prover gives the simulator)."""

    def __init__(self, model: Model, space: Space, reuse: TermReuse, world: World, builder: Builder,
                 shape: int) -> None:
        self.model = model
        self.space = space
        self.reuse = reuse
        self.world = world
        self.builder = builder
        self.shape = shape  # the kinds' classes the world was built with: they shape it before any decision
        self.prefix = shape  # identifies the decisions recorded so far (equal prefixes, equal worlds)
        self.pending: dict[tuple[str, str], list[z3.BoolRef]] = {}  # (owner, fact) -> its held pins
        self.effect_fields = frozenset(n for n, a in model.vocabulary.groups["email"].items() if a.field)

    @property
    def pins(self) -> list[z3.BoolRef]:
        return self.builder.pins

    def read(self, owner: str, fact: str) -> None:
        """Something reads `fact` of `owner`: what decided it joins the path condition."""
        held = self.pending.pop((owner, fact), None)
        if held:
            self.builder.pins.extend(held)

    def hold(self, owner: str, fact: str, pins: list[z3.BoolRef]) -> None:
        """Pins that decide `fact` of `owner`, held back until something reads it."""
        self.pending.setdefault((owner, fact), []).extend(pins)

    def record(self, expr: Expr, env: dict[str, Any], value: Any, role: str,
               held: tuple[str, str] | None = None) -> None:
        """Pin `expr`'s term to the value the simulator saw (held back, when `held` names the fact it decides)."""
        start = len(self.builder.pins)
        event = env.get("__event") or {}
        point = Point(self.prefix, self.shape, expr, env.get("email"), env.get("actor"), repr(sorted(event.items())),
                      role, _names(env))
        entry = self.reuse.find(point, self.world, event)
        if entry is None:
            entry, reads = self._build(expr, env, role)
            self.reuse.keep(point, self.world, entry, reads)
        else:
            self._rest_on(entry, env, role)
        if not is_value(entry.term):  # a value's pin says nothing (it was built from what the run saw)
            self.builder.pins.append(self.reuse.pin(entry, expr.type, value, self.space))
        self.prefix = hash((point.prefix, id(expr), point.email, point.actor, point.event, role, repr(value)))
        if held is not None:  # held back until something reads the fact it decides
            self.hold(*held, self.builder.pins[start:])
            del self.builder.pins[start:]
        for message, field in entry.fields:
            self.read(message, field)

    def _build(self, expr: Expr, env: dict[str, Any], role: str) -> tuple[Entry, list[Any]]:
        """The term of `expr` built in this run's world, read through a log (the fields it reads are flushed by
        `record`, after this record's own pins are held back)."""
        builder = self.builder
        builder.role = role
        reads = ReadLog(self.world)
        saved = builder.reader
        builder.reader = reads
        start, named = len(builder.pins), len(builder.defined)
        try:
            with self.world.unobserved():
                term = builder.term(expr, {**quiet(env), "__world": reads})
        finally:
            builder.reader = saved
        fields = tuple(dict.fromkeys((key[2][0], key[3]) for key, _ in reads.log
                                     if key[0] == "get" and key[1] == "email" and key[2] is not None
                                     and key[3] in self.effect_fields))
        entry = Entry(term, tuple(builder.pins[start:]), tuple(builder.defined[named:]), fields)
        return entry, reads.log

    def _rest_on(self, entry: Entry, env: dict[str, Any], role: str) -> None:
        """A term reused from elsewhere brings the pins and definitions its building added."""
        email = env.get("email")
        self.builder.pins.extend(entry.pins)
        self.builder.defs.setdefault((email[0] if email else "", role), set()).update(entry.definitions)
        self.builder.defined.extend(entry.definitions)

    def finish(self, keep: set[str] | None, omit: frozenset[str] = frozenset()) -> list[z3.BoolRef]:
        """The run's pins, with those of the held facts the caller reports (`keep`: outcome fields; None: every
        fact, as an exploration that goes on from this world needs, but those in `omit`)."""
        for owner, fact in list(self.pending):
            if (keep is None and fact not in omit) or (keep is not None and fact in keep):
                self.read(owner, fact)
        return self.builder.pins
