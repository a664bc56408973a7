"""Rule paths: the behaviours of a claim's premise, each a path condition over the free settings (ADR 003).

The premise fixes the events, so a claim's behaviours are its rule paths. The loop is DART's:
1. Z3 proposes settings that no path found so far covers (`enumerate_paths`);
2. the simulator plays the premise under them, and the recorder (recorder.py) pins every expression it evaluates
   to the value it saw: the conjunction is the run's path condition (`run_path`), exactly the settings that take
   the same rule path;
3. the path condition is excluded, and the loop repeats until Z3 answers `unsat`: then every configuration in scope
   took one of the recorded paths, whose outcomes are known. The verdict is exact for the premise's events.
A participant's kind also shapes the world the simulator builds (a mailbox or not, an unknown address, a
distribution list), which no recorded expression sees: a path condition pins such a kind to its class (kind_class).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import z3

from ..errors import TrackproofError
from ..simulate.engine import Simulator
from ..simulate.outcomes import DETAIL, Outcome, outcome_env
from ..spec.claims import Claim, Setting
from ..spec.expr import Expr
from ..spec.ir import OUTCOME, Model
from ..spec.scenario import Participant, Scenario
from .recorder import PathRecorder
from .regions import closest, mentioned
from .scope import Space
from .setup import Setup
from .terms import Builder, ReadLog
from .z3api import RLIMIT, UNKNOWN, UNSAT, add, all_of, any_of, check, constant_id, neg, new_solver

MAX_PATHS = 5_000


@dataclass(frozen=True)
class PathRun:
    """One run of the premise: its path condition, whether the premise could happen, the outcomes, whether the
    conclusion holds, the settings it ran under, and the definitions its path condition rests on."""

    condition: z3.BoolRef  # the conjunction of `pins`
    feasible: bool  # the premise's events could all happen
    outcomes: dict[str, Outcome]
    holds: bool  # the conclusion holds (meaningful when feasible)
    settings: dict[Setting, Any]
    failure: str  # why the premise could not happen, when it could not
    definitions: dict[tuple[str, str], set[str]]  # (message id, role) -> definitions in the path condition
    pins: tuple[z3.BoolRef, ...] = ()  # the decisions of the run, in the order they were made


def premise_under(claim: Claim, settings: dict[Setting, Any]) -> Scenario:
    """The claim's premise as a scenario with `settings` applied (kinds included)."""
    base = claim.scenario
    org = dict(base.org)
    readings = dict(base.readings)
    kinds: dict[str, Any] = {}
    changed: dict[str, dict[str, Any]] = {}
    for (owner, name), value in settings.items():
        if owner == "org":
            org[name] = value
        elif owner == "reading":
            readings[name] = value
        elif name == "kind":
            kinds[owner] = value
        else:
            changed.setdefault(owner, {})[name] = value
    parts: dict[str, Participant] = dict(base.participants)
    for owner in kinds.keys() | changed.keys():
        p = parts[owner]
        parts[owner] = replace(p, kind=kinds.get(owner, p.kind), settings={**p.settings, **changed.get(owner, {})})
    return replace(base, org=org, participants=parts, readings=readings)


def kind_class(model: Model, claim: Claim, owner: str, kind: str) -> tuple[str, ...]:
    """The kinds `owner` may have that the simulator cannot tell from `kind` except through recorded reads: a run
    with one stands for them all, so a rule path is pinned to the class, not to the kind. The mail mechanics tell
    apart the kinds the vocabulary gives a role (a mailbox of each kind, an unknown address, a distribution list);
    the other kinds are records, which differ only where a model expression reads the kind (recorded like any
    setting) and in which record a From address shared by several participants resolves to (R74)."""
    own = model.vocabulary.own_class
    participants = claim.scenario.participants
    me = participants[owner]
    shared = any(p.address == me.address for pid, p in participants.items() if pid != owner)
    if kind in own or shared:
        return (kind,)
    return tuple(k for k in claim.kinds[owner] if k not in own)


def conclusion_reads(model: Model, claim: Claim, space: Space) -> list[Setting]:
    """The free settings (kinds included) a claim's conclusion may read directly, in the space's order."""
    found = expression_reads(model, claim, claim.conclusion)
    return [s for s in space.vars if s in found]


def expression_reads(model: Model, claim: Claim, expr: Expr) -> set[Setting]:
    """The settings (kinds included) an expression over outcomes may read directly: an org setting by name; a
    participant's setting of a participant named in it, or of every participant where the party is only known at
    run time (`E1.accepted_by.kind`, a bound variable, a definition's parameter)."""
    found: set[Setting] = set()
    participants = claim.scenario.participants

    def visit(e: Expr, named: bool, seen: frozenset[str]) -> None:
        if e.kind == "attr" and e.owner == "org":
            found.add(("org", str(e.value)))
        elif e.kind == "attr" and e.owner == "party":
            obj = e.args[0]
            if named and obj.kind == "var" and str(obj.value) in participants:
                found.add((str(obj.value), str(e.value)))
            else:
                found.update((pid, str(e.value)) for pid in participants)
        if e.kind == "call" and str(e.value) not in seen:
            visit(model.definitions[str(e.value)].body, False, seen | {str(e.value)})
        inner = named and e.kind not in ("quant", "first", "select")  # a bound variable may shadow a participant's name
        for a in e.args:
            visit(a, inner, seen)

    visit(expr, True, frozenset())
    return found


def run_path(model: Model, claim: Claim, setup: Setup, settings: dict[Setting, Any],
             keep: set[str] | None = None, explain: bool = True, omit: frozenset[str] = frozenset()) -> PathRun:
    """Play the premise under `settings`; return the path condition of the run and its outcome (step 2 above).

    An effect's value joins the path condition only when something reads it later or when it is among `keep`, the
    outcome fields the caller reports (None: all of them but those in `omit`)."""
    space = setup.space
    classes = [(owner, kind_class(model, claim, owner, settings[(owner, name)]))
               for owner, name in space.vars if name == "kind"]
    sim = Simulator(model, premise_under(claim, settings), explain=explain)
    sim.world.kinds = claim.kinds
    builder = Builder(space, ReadLog(sim.world), sim.compiler, lambda: sim.version)
    recorder = PathRecorder(model, space, setup.reuse, sim.world, builder, hash(tuple(classes)))
    # A kind's class shapes the world only where the mail mechanics read it (an unknown address, a list, who may
    # send from Outlook): held until then. A mailbox's settings the scope leaves at their defaults differ by kind
    # (a queue's filter), so there the class is pinned at once.
    pins: list[z3.BoolRef] = []
    mailbox = model.vocabulary.groups["mailbox"]
    for owner, same in classes:
        pin = any_of([space.equals((owner, "kind"), k) for k in same])
        defaults = same[0] in model.vocabulary.mailbox_kinds and any(
            (owner, n) not in space.vars and (owner, n) not in claim.fixed for n in mailbox)
        if defaults:
            pins.append(pin)
        else:
            recorder.hold(owner, "kind", [pin])
    sim.observe(recorder)
    failure = ""
    try:
        outcomes = {o.key: o for o in sim.run()}
    except TrackproofError as err:
        if err.code != "E404":
            raise
        outcomes, failure = {}, f"{err.message} (at {err.loc})"
    finally:
        sim.observe(None)  # the run and its recorder no longer hold each other (no cycle left to collect)
    pins += recorder.finish(keep, omit)
    holds = False
    if not failure:
        env = outcome_env(outcomes, sim.world, sim.scenario.participants, (k for k in outcomes if "." not in k))
        holds = bool(sim.compiler.compile(claim.conclusion)(env))
        # The conclusion may read settings or kinds itself (`C.kind == 'contact'`, `org.two_activities`), not only
        # outcomes: each setting it may read is pinned to this run's value, so the path's condition fixes them and
        # every configuration on the path gives the conclusion the same value.
        reads = conclusion_reads(model, claim, space)
        space.read.update(reads)  # so that the next runs take these settings from Z3's proposals
        pins += [space.equals(s, settings[s]) for s in reads]
    return PathRun(all_of(pins), not failure, outcomes, holds, settings, failure, builder.defs, tuple(pins))


def closest_run(model: Model, claim: Claim, setup: Setup, region: list[z3.BoolRef],
                solver: z3.Solver | None = None) -> PathRun:
    """The run, in the scope and `region`, with the fewest settings changed from their defaults (every outcome
    field recorded). `solver`: one that already holds exactly base and region (regions.closest)."""
    settings = closest(model, setup.space, [*setup.base, *region], solver=solver)
    return run_path(model, claim, setup, settings, None)


def settings_of(space: Space, m: z3.ModelRef) -> dict[Setting, Any]:
    """Every free setting's value in `m`; one the model leaves open takes its default (any value would do).
    Only the settings some run read or a constraint mentions are read from `m`; the others keep their defaults."""
    out: dict[Setting, Any] = dict(space.defaults)
    out.update(space.assigned(m, space.read | space.constrained))
    return out


def outcome_reads(claim: Claim) -> tuple[set[str], set[str]]:
    """The emails the conclusion names, and the outcome fields it reads (a rule that only sets another field cannot
    affect the conclusion)."""
    names = {str(e.value) for e in claim.conclusion.walk() if e.kind == "var" and e.type == OUTCOME}
    fields = {str(e.value) for e in claim.conclusion.walk() if e.kind == "attr" and e.owner == OUTCOME}
    return names, fields


INSIDE, OUTSIDE, AGAIN = "inside", "outside", "again"  # DecisionTree.insert's answers


class _Node:
    """A node of the tree of decisions: the pins that lead to it, and the next pins the runs through it took."""

    __slots__ = ("children", "done", "ids", "prefix")

    def __init__(self, prefix: tuple[z3.BoolRef, ...], ids: frozenset[int] = frozenset()) -> None:
        self.prefix = prefix
        self.ids = ids  # the ids of the prefix's pins
        self.children: dict[int, _Node] = {}  # pin id -> the node after it
        self.done = False  # every setting through here is covered (a run ended here, or nothing else is left)


class DecisionTree:
    """The rule paths found so far, as a tree of their decisions (a path condition is the conjunction of its pins,
    in the order the run made them). What is left to explore at a node is its prefix and none of its children's
    pins: a query with assumptions on a solver that holds only the scope, so its cost does not grow with the number
    of paths found (blocking every path condition in one solver makes the solver's work grow with them all)."""

    def __init__(self) -> None:
        self.root = _Node(())
        self.open: list[_Node] = [self.root]  # nodes whose region may hold settings no path covers yet
        self.repeated: set[tuple[int, ...]] = set()  # paths that came again (blocked in the caller's solver)

    def insert(self, pins: tuple[z3.BoolRef, ...], asked: _Node) -> str:
        """Add a run's path. INSIDE: a new path through `asked`, the node its settings were chosen in. OUTSIDE: a
        new path that did not go through `asked`. AGAIN: a path found before (a setting the run read for the first
        time kept its default, not the value Z3 proposed for it, and the run followed an old path). On OUTSIDE and
        AGAIN the caller blocks the path's condition in the solver, so that the same settings are not proposed
        again; on AGAIN it also drops the run (its path is known)."""
        node, through = self.root, asked is self.root
        for depth, pin in enumerate(pins):
            child = node.children.get(pin.get_id())
            if child is None:
                child = node.children[pin.get_id()] = _Node(pins[:depth + 1], node.ids | {pin.get_id()})
                self.open.append(child)
            node = child
            through = through or node is asked
        if node.done:  # a path found before: its settings were chosen outside it (the caller blocks it)
            path = tuple(pin.get_id() for pin in pins)
            if path in self.repeated:  # blocked already, and still proposed: its condition excludes its settings
                raise AssertionError("a rule path came again after it was blocked: the simulator and the prover's "
                                     "terms disagree (please report it)")
            self.repeated.add(path)
            return AGAIN
        node.done = True
        return INSIDE if through else OUTSIDE

    def unexplored(self, node: _Node) -> list[z3.BoolRef]:
        """The assumptions that describe what is left at `node`."""
        return [*node.prefix, *(neg(child.prefix[-1]) for child in node.children.values())]

    @staticmethod
    def settled(node: _Node, known: frozenset[int] = frozenset()) -> bool:
        """Whether nothing is left at `node`, seen without asking Z3 (a speed-up: Z3 would answer unsat): a child's
        pin holds wherever the node's prefix does (it is among the prefix's pins, as when a run decides the same
        thing twice, or among `known`, the pins that hold for every setting asked about), or the children's pins
        give one term every value of its sort (`t == True` and `t == False`; each value of an enumeration)."""
        if any(pin in known or pin in node.ids for pin in node.children):
            return True
        return exhausts([child.prefix[-1] for child in node.children.values()])


def exhausts(pins: list[z3.BoolRef]) -> bool:
    """Whether `pins` are `t == v` for one term t and every value v of its sort (a Boolean, or an enumeration)."""
    if len(pins) < 2 or not all(z3.is_eq(p) for p in pins):
        return False
    term = pins[0].arg(0)
    if any(not p.arg(0).eq(term) for p in pins):
        return False
    values = {p.arg(1).get_id() for p in pins}
    sort = term.sort()
    if sort.kind() == z3.Z3_BOOL_SORT:
        return values == {constant_id(True), constant_id(False)}
    if sort.kind() != z3.Z3_DATATYPE_SORT:
        return False
    constructors = [sort.constructor(i) for i in range(sort.num_constructors())]
    if any(c.arity() for c in constructors):
        return False
    return values == {c().get_id() for c in constructors}


def enumerate_paths(model: Model, claim: Claim, setup: Setup, every_field: bool = False,
                    explain: bool = True) -> tuple[list[PathRun], str]:
    """Every rule path of the premise over the claim's scope (steps 1 and 3 above); '' or the solver's reason for
    giving up. The paths distinguish the outcome fields the conclusion reads, or with `every_field` all of them but
    the activity's DETAIL (From, To, ...: what gaps and diff compare and say of an outcome leaves them out).
    Without `explain`, the outcomes' reasons do not say in words why a rule did not fire (runs never shown).

    The paths found are kept as a DecisionTree: Z3 proposes settings in a region of the tree that no path covers
    yet (an open node: its prefix, and none of its children's pins), the run's path joins the tree, and the node is
    asked again until its region is empty. When no open node is left, every setting in scope follows the pins of
    some path from the root to a leaf: the paths cover the scope."""
    space = setup.space
    keep: set[str] | None = None if every_field else outcome_reads(claim)[1]
    omit = DETAIL if every_field else frozenset()
    solver = new_solver()
    solver.set("rlimit", RLIMIT)
    add(solver, list(setup.base))
    # A run reads from Z3's model only the settings some condition mentions (the rest keep their defaults), so the
    # scope's own constraints count as mentioned from the start.
    space.constrained |= mentioned(space, list(setup.base))
    tree = DecisionTree()
    paths: list[PathRun] = []
    while tree.open:
        node = tree.open[-1]
        if node.done:
            tree.open.pop()
            continue
        if tree.settled(node):
            node.done = True
            continue
        answer = check(solver, *tree.unexplored(node))
        if answer == UNKNOWN:
            return paths, f"Z3 gave up: {solver.reason_unknown()}"
        if answer == UNSAT:
            node.done = True
            continue
        if len(paths) == MAX_PATHS:
            return paths, too_many(space, paths)
        settings = settings_of(space, solver.model())
        path = run_path(model, claim, setup, settings, keep, explain, omit)
        _self_check(claim, space, settings, path)
        where = tree.insert(path.pins, node)
        if where != AGAIN:
            paths.append(path)
        if where != INSIDE:
            add(solver, [neg(path.condition)])
    return paths, ""


def too_many(space: Space, paths: list[PathRun]) -> str:
    """Why the enumeration stopped, with the part of the claim to narrow: the settings the rule paths found so far
    split on most (fix some of them in `scope.fixed`, or leave fewer free in `scope.free`)."""
    counts: dict[Setting, int] = {}
    for p in paths[:500]:
        for s in mentioned(space, [p.condition]):
            counts[s] = counts.get(s, 0) + 1
    top = sorted(counts, key=lambda s: (-counts[s], list(space.vars).index(s)))[:6]
    return (f"more than {MAX_PATHS} rule paths: narrow the claim, e.g. fix some of the settings its paths split on "
            f"most ({', '.join(space.label(s) for s in top)}) in scope.fixed, or list fewer in scope.free")


def _self_check(claim: Claim, space: Space, settings: dict[Setting, Any], path: PathRun) -> None:
    """The tests turn this on: the two compilations of the model (simulator and Z3) must agree on every run."""
    self_check(claim, space, settings, path.condition)


def self_checking() -> bool:
    """Whether the prover checks its two compilations of the model against each other (TRACKPROOF_SELF_CHECK, set
    by the tests)."""
    return bool(os.environ.get("TRACKPROOF_SELF_CHECK"))


def self_check(claim: Claim, space: Space, settings: dict[Setting, Any], condition: z3.BoolRef) -> None:
    """With TRACKPROOF_SELF_CHECK set (the tests set it): a run's condition must hold for the settings it ran
    under."""
    if self_checking() and not space.holds(condition, settings):
        raise AssertionError(f"path condition of claim {claim.id} excludes the settings that produced it")
