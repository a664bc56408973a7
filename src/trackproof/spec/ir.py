"""The intermediate representation: the model as frozen data, each node with its source location.

The simulator (simulate.py), and the prover and renderer of later issues, read only these classes; none of them
reads YAML. This module holds data only: loading is in loader.py, checking in checks.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from ..errors import Loc

if TYPE_CHECKING:
    from .expr import Expr

#: Object types whose attributes expressions may read; `party` is the union of party, mailbox and copy.
OBJECT_TYPES = ("org", "email", "party", "event", "reading")


class Attribute(NamedTuple):
    """A setting or a fact: `org.use_correlation`, `X.filter`, `email.stored`."""

    name: str
    type: str
    group: str  # org | mailbox | party | copy | email | event
    loc: Loc
    default: object = None
    label: str = ""
    rules: tuple[str, ...] = ()
    default_confidence: str = "H"
    queue_default_confidence: str = "H"
    default_for_queue: object = None
    users_only: bool = False
    field: bool = False  # written by transition effects
    shared: bool = False  # a field of the message, shared by its sides


class Constraint(NamedTuple):
    id: str
    expr: Expr
    rules: tuple[str, ...]
    says: str
    loc: Loc


class Vocabulary(NamedTuple):
    enums: dict[str, tuple[str, ...]]
    attributes: dict[str, dict[str, Attribute]]  # object type -> name -> attribute
    groups: dict[str, dict[str, Attribute]]  # group (org, mailbox, party, copy, email, event) -> attributes
    scope: dict[str, str]
    triggers: dict[str, str]
    actions: dict[str, str]
    sender_order: tuple[str, ...]
    resolution_rules: tuple[str, ...]
    constraints: tuple[Constraint, ...] = ()


class Provenance(NamedTuple):
    """Where a rule comes from: the RULES.md numbers, the documents, the confidence and why it exists."""

    implements: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    reason: str


class Definition(NamedTuple):
    name: str
    params: tuple[tuple[str, str], ...]
    body: Expr
    type: str
    provenance: Provenance
    loc: Loc


class Effect(NamedTuple):
    target: str  # a field of `email`
    value: Expr
    loc: Loc


class Action(NamedTuple):
    name: str
    when: Expr | None
    loc: Loc


class Transition(NamedTuple):
    """One rule of a machine: on `trigger`, from `source`, if `guard`, go to `dest` and apply the effects.

    `dest` is None for an internal transition (the state stays). `side` restricts the transition to one activity
    side; it is set when a side-dependent destination (`to: tracked`) was expanded by the loader.
    """

    id: str
    machine: str
    trigger: str
    source: str
    dest: str | None
    guard: Expr | None
    effects: tuple[Effect, ...]
    actions: tuple[Action, ...]
    priority: int
    order: int
    side: str | None
    says: str
    provenance: Provenance
    loc: Loc


class State(NamedTuple):
    name: str
    side: str
    stored: bool
    status: str | None
    direction: str | None
    final: bool
    says: str
    loc: Loc


class Machine(NamedTuple):
    name: str
    title: str
    extends: str | None
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]  # its own and the inherited ones that fit its states
    loc: Loc


class Source(NamedTuple):
    key: str
    title: str
    url: str
    proposed: bool = False  # cited by a row proposed for RULES.md, not yet in it (tools/proposed-rules.md)


class DocumentedRule(NamedTuple):
    number: str
    text: str
    sources: tuple[str, ...]
    confidence: str  # as written in RULES.md, e.g. "H (mechanism), M (moved-back edge)"
    proposed: bool = False  # a row proposed for RULES.md (a correction or an addition), not yet accepted there

    @property
    def levels(self) -> str:
        """The confidence letters this rule admits (H, M, L) in the order written."""
        return "".join(dict.fromkeys(re.findall(r"\b([HML])\b", self.confidence)))


class ReadingChoice(NamedTuple):
    """One reading of a disputed point: what it says happens, the documents behind it, and how sure they are."""

    name: str
    says: str
    sources: tuple[str, ...]
    confidence: str
    loc: Loc


class Reading(NamedTuple):
    """A point the documentation leaves open or contradicts itself on (model/readings.yaml): its question, the
    RULES.md numbers it is about, the default reading and every reading, in the order written."""

    id: str
    question: str
    rules: tuple[str, ...]
    default: str
    choices: dict[str, ReadingChoice]
    loc: Loc


class Model(NamedTuple):
    root: str
    vocabulary: Vocabulary
    definitions: dict[str, Definition]
    states: dict[str, State]
    initial: str
    machines: dict[str, Machine]
    transitions: tuple[Transition, ...]  # the union over all machines, in evaluation order
    sources: dict[str, Source]
    rulebook: dict[str, DocumentedRule]
    notes: tuple[str, ...] = ()
    readings: dict[str, Reading] = {}  # noqa: RUF012 - never mutated (a NamedTuple's default)

    def rule(self, rule_id: str) -> Transition | Definition:
        for t in self.transitions:
            if t.id == rule_id:
                return t
        return self.definitions[rule_id]
