"""The intermediate representation: the model as frozen data, each node with its source location.

The simulator (simulate/), the prover (prove/) and the renderer (render/) read only these classes; none of them
reads YAML. This module holds data only: parsing expressions is expr.py's, loading loader.py's, the structural
checks structure.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import Loc

#: The types of expressions besides the vocabulary's enumerations.
BOOL = "bool"
NULL = "null"
STR = "str"
PARTY = "party"
EMAIL = "email"
PARTY_SET = "set[party]"
REF_TYPES = (PARTY, EMAIL)
OUTCOME = "outcome"  # an email's outcome, as claims and `run --watch` read it (spec/claims.py)


@dataclass(frozen=True)
class Expr:
    """A type-checked expression node. `text` is its source text; `loc` where it starts."""

    kind: str  # const | var | attr | not | and | or | cmp | set | quant | first | coalesce | if | call
    type: str
    loc: Loc
    text: str
    value: object = None  # const: the value; var/attr/call: the name; cmp: the operator; quant: any|all
    args: tuple[Expr, ...] = ()
    var: str = ""  # quant/first: the bound variable
    owner: str = ""  # attr: the object type the attribute belongs to

    def walk(self) -> Iterator[Expr]:
        """This node and every node under it (without recursion: expressions may nest deep)."""
        stack = [self]
        while stack:
            e = stack.pop()
            yield e
            stack.extend(e.args)


#: Object types whose attributes expressions may read; `party` is the union of party, mailbox and copy.
OBJECT_TYPES = ("org", "email", "party", "event", "reading")


@dataclass(frozen=True)
class Attribute:
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
    where: str = ""  # where a setting is found in Dynamics 365 (a page, a record, an OrgDBOrgSetting)
    where_sources: tuple[str, ...] = ()  # the documents that say so

    def _queue_own(self, kind: str | None) -> bool:
        return kind == "queue" and self.default_for_queue is not None

    def default_for(self, kind: str | None) -> object:
        """The documented default for a participant of `kind` (a queue's own, where it has one; None: no
        participant, as for the org)."""
        return self.default_for_queue if self._queue_own(kind) else self.default

    def confidence_for(self, kind: str | None) -> str:
        """How sure the documentation is of that default."""
        return self.queue_default_confidence if self._queue_own(kind) else self.default_confidence


@dataclass(frozen=True)
class Constraint:
    id: str
    expr: Expr
    rules: tuple[str, ...]
    says: str
    loc: Loc


@dataclass(frozen=True)
class Vocabulary:
    enums: dict[str, tuple[str, ...]]
    attributes: dict[str, dict[str, Attribute]]  # object type -> name -> attribute
    groups: dict[str, dict[str, Attribute]]  # group (org, mailbox, party, copy, email, event) -> attributes
    scope: dict[str, str]
    triggers: dict[str, str]
    actions: dict[str, str]
    sender_order: tuple[str, ...]
    resolution_rules: tuple[str, ...]
    kind_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # mailbox, unresolved, expands
    constraints: tuple[Constraint, ...] = ()
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # type -> value -> its name in Dynamics

    @property
    def mailbox_kinds(self) -> tuple[str, ...]:
        """The kinds that have a mailbox record (users and queues): they hold copies, send and receive."""
        return self.kind_roles.get("mailbox", ())

    @property
    def own_class(self) -> frozenset[str]:
        """The kinds the mail mechanics tell apart from every other kind: each is a class of its own in a rule path
        (prove/rulepaths.kind_class); the other kinds are records, told apart only by what expressions read."""
        return frozenset(k for kinds in self.kind_roles.values() for k in kinds)


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from: the RULES.md numbers, the documents, the confidence and why it exists."""

    implements: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    reason: str


@dataclass(frozen=True)
class Definition:
    name: str
    params: tuple[tuple[str, str], ...]
    body: Expr
    type: str
    provenance: Provenance
    loc: Loc


@dataclass(frozen=True)
class Effect:
    target: str  # a field of `email`
    value: Expr
    loc: Loc


@dataclass(frozen=True)
class Action:
    name: str
    when: Expr | None
    loc: Loc


@dataclass(frozen=True)
class Transition:
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


@dataclass(frozen=True)
class State:
    name: str
    side: str
    stored: bool
    status: str | None
    direction: str | None
    final: bool
    says: str
    loc: Loc


@dataclass(frozen=True)
class Machine:
    name: str
    title: str
    extends: str | None
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]  # its own and the inherited ones that fit its states
    loc: Loc
    # the settings that put a user's mailbox in this mode: ("org" or "mailbox", setting) -> value
    mode: dict[tuple[str, str], object] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    proposed: bool = False  # cited by a row proposed for RULES.md, not yet in it (tools/proposed-rules.md)


@dataclass(frozen=True)
class DocumentedRule:
    number: str
    text: str
    sources: tuple[str, ...]
    confidence: str  # as written in RULES.md, e.g. "H (mechanism), M (moved-back edge)"
    proposed: bool = False  # a row proposed for RULES.md (a correction or an addition), not yet accepted there

    @property
    def levels(self) -> str:
        """The confidence letters this rule admits (H, M, L) in the order written."""
        return "".join(dict.fromkeys(re.findall(r"\b([HML])\b", self.confidence)))


@dataclass(frozen=True)
class ReadingChoice:
    """One reading of a disputed point: what it says happens, the documents behind it, and how sure they are."""

    name: str
    says: str
    sources: tuple[str, ...]
    confidence: str
    loc: Loc


@dataclass(frozen=True)
class Reading:
    """A point the documentation leaves open or contradicts itself on (model/readings.yaml): its question, the
    RULES.md numbers it is about, the default reading and every reading, in the order written."""

    id: str
    question: str
    rules: tuple[str, ...]
    default: str
    choices: dict[str, ReadingChoice]
    loc: Loc


@dataclass(frozen=True)
class Model:
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
    readings: dict[str, Reading] = field(default_factory=dict)  # disputed point -> its readings (readings.yaml)
    # what Dynamics records on a side whichever rule acts (lifecycle.yaml `records`): "created" when a rule makes an
    # email activity of it, "undeliverable" when server-side sync could not
    records: dict[str, tuple[Effect, ...]] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Transition | Definition:
        for t in self.transitions:
            if t.id == rule_id:
                return t
        return self.definitions[rule_id]
