"""Prove or refute a claim with Z3: exact conditions, a minimal counterexample, and the rules behind the verdict.

Method (docs/adr/003-rule-path-enumeration.md): the premise fixes the events, so a claim's behaviours are its rule
paths. Z3 proposes settings not yet covered; the simulator plays the premise under them and every expression it
evaluates becomes a Z3 term over the settings (symbolic.py); their conjunction is the path condition, which Z3
then excludes. When Z3 answers "unsat", every configuration in scope has been covered: the verdict is exact, not
sampled, and needs no bound beyond the premise's own events.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, NamedTuple, cast

import z3

from ..errors import TrackproofError
from ..simulate.engine import Outcome, Simulator, engine
from ..simulate.outcomes import outcome_env
from ..simulate.world import World
from ..spec.claims import OUTCOME, Claim, Setting
from ..spec.expr import PARTY_SET, Expr
from ..spec.ir import Model
from ..spec.scenario import Participant, Scenario
from .symbolic import (
    SAT,
    UNKNOWN,
    UNSAT,
    Builder,
    Space,
    add,
    all_of,
    any_of,
    check,
    constants,
    core_ids,
    eq,
    neg,
    new_solver,
    quiet,
)

# Z3's resource limit per query, not a wall-clock timeout: deterministic (the same input gives the same answer on
# any machine, never "unknown" on a busy one) and without the timer thread a timeout starts on every check.
RLIMIT = 50_000_000
MAX_PATHS = 5_000
MAX_CUBES = 64


class PathRun(NamedTuple):
    condition: z3.BoolRef
    feasible: bool  # the premise's events could all happen
    outcomes: dict[str, Outcome]
    holds: bool  # the conclusion holds (meaningful when feasible)
    settings: dict[Setting, Any]
    failure: str  # why the premise could not happen, when it could not
    definitions: dict[tuple[str, str], set[str]]  # (message id, role) -> definitions in the path condition


class SpaceView(NamedTuple):
    """What reports read of a claim's Space, without its Z3 objects: a verdict proved in another process
    (check --jobs) travels back with this instead."""

    vars: dict[Setting, None]
    defaults: dict[Setting, Any]
    read: frozenset[Setting]

    def label(self, setting: Setting) -> str:
        return f"{setting[0]}.{setting[1]}"


class Verdict(NamedTuple):
    claim: Claim
    verdict: str  # proved | violated | vacuous | unknown
    holds_under_defaults: bool | None
    holds_when: list[dict[str, list[Any]]] | None  # cubes; [] is never, [{}] is always
    counterexample: PathRun | None
    paths: list[PathRun]
    rules: tuple[str, ...]
    confidence: str
    reason: str  # for unknown: the solver's reason
    space: Space | SpaceView | None
    holds_region: z3.BoolRef | None = None  # the settings under which the claim holds (or cannot happen)
    base: tuple[z3.BoolRef, ...] = ()  # the scope's constraints
    bad_region: z3.BoolRef | None = None  # within base, the settings under which the claim does not hold
    others: tuple[PathRun, ...] = ()  # more counterexamples, each failing another way (prove_claim's `examples`)
    # holds_region again, in far smaller formulas: holds_when's cubes (exact where the premise can happen) or the
    # paths where it cannot; None where there are no cubes (more than MAX_CUBES)
    holds_simply: z3.BoolRef | None = None


def portable(v: Verdict) -> Verdict:
    """`v` without Z3 objects, so that it can be pickled to another process: everything reports read stays (the
    number of rule paths, the counterexample's settings and outcomes); the path conditions, the regions and the
    Space's Z3 variables do not (their consumers, consistency and holds_when, run where the verdict was proved)."""

    def light(p: PathRun, whole: bool) -> PathRun:
        return p._replace(condition=cast(z3.BoolRef, None), outcomes=p.outcomes if whole else {},
                          definitions=p.definitions if whole else {})

    space = v.space
    view = None if space is None else SpaceView(dict.fromkeys(space.vars), dict(space.defaults), frozenset(space.read))
    return v._replace(paths=[light(p, False) for p in v.paths], space=view, holds_region=None, base=(), bad_region=None,
                      holds_simply=None,
                      counterexample=None if v.counterexample is None else light(v.counterexample, True),
                      others=tuple(light(p, True) for p in v.others))


def _scenario(claim: Claim, settings: dict[Setting, Any]) -> Scenario:
    base = claim.scenario
    org = dict(base.org)
    kinds: dict[str, Any] = {}
    changed: dict[str, dict[str, Any]] = {}
    for (owner, name), value in settings.items():
        if owner == "org":
            org[name] = value
        elif name == "kind":
            kinds[owner] = value
        else:
            changed.setdefault(owner, {})[name] = value
    parts: dict[str, Participant] = dict(base.participants)
    for owner in kinds.keys() | changed.keys():
        p = parts[owner]
        parts[owner] = p._replace(kind=kinds.get(owner, p.kind), settings={**p.settings, **changed.get(owner, {})})
    return base._replace(org=org, participants=parts)


EFFECT_FIELDS = ("regarding", "accepted_by", "correlated_to", "has_token")


# The kinds the simulator's own code tells apart (a mailbox of each kind, an unknown address, which becomes a contact
# when records are created, and a distribution list, which is expanded to its members). The other kinds are records:
# they differ only where a model expression reads the kind, which is recorded like any setting, and in which record
# a From address shared by several participants resolves to (R74).
_OWN_CLASS = frozenset({"user", "queue", "unknown", "distribution_list"})


def kind_class(claim: Claim, owner: str, kind: str) -> tuple[str, ...]:
    """The kinds `owner` may have that the simulator cannot tell from `kind` except through recorded reads: a run
    with one stands for them all, so a rule path is pinned to the class, not to the kind."""
    participants = claim.scenario.participants
    me = participants[owner]
    shared = any(p.address == me.address for pid, p in participants.items() if pid != owner)
    if kind in _OWN_CLASS or shared:
        return (kind,)
    return tuple(k for k in claim.kinds[owner] if k not in _OWN_CLASS)


def conclusion_reads(model: Model, claim: Claim, space: Space) -> list[Setting]:
    """The free settings (kinds included) a claim's conclusion may read directly, in the space's order: an org
    setting by name; a participant's setting of a participant named in the conclusion, or of every participant
    where the party is only known at run time (`E1.accepted_by.kind`, a bound variable, a definition's parameter)."""
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
        inner = named and e.kind not in ("quant", "first")  # a bound variable may shadow a participant's name
        for a in e.args:
            visit(a, inner, seen)

    visit(claim.conclusion, True, frozenset())
    return [s for s in space.vars if s in found]


def run_path(model: Model, claim: Claim, space: Space, settings: dict[Setting, Any],
             keep: set[str] | None = None, explain: bool = True) -> PathRun:
    """Play the premise under `settings`; return the path condition of the run and its outcome.

    An effect's value (Regarding, accepting entity, correlated email, token) joins the path condition only when
    something reads it later (a guard, the engine) or when it is among `keep`, the outcome fields the caller reports
    (None: all of them). Runs that differ only in a value nothing depends on are then one rule path, not several."""
    scenario = _scenario(claim, settings)
    pins: list[z3.BoolRef] = []
    classes = []
    for owner, name in space.vars:
        if name == "kind":
            same = kind_class(claim, owner, settings[(owner, name)])
            pins.append(any_of([space.equals((owner, name), k) for k in same]))
            classes.append((owner, same))
    sim = Simulator(model, scenario)
    sim.explain = explain
    world = sim.world
    builder = Builder(space, world, sim.compiler, lambda: sim.version)

    # identifies the decisions recorded so far in this run: equal prefixes, equal worlds (the kinds' classes shape
    # the world before any decision)
    shape = hash(tuple(classes))
    prefix = [shape]
    pending: dict[tuple[str, str], list[z3.BoolRef]] = {}

    def flush(message: str, field: str) -> None:
        builder.pins.extend(pending.pop((message, field), []))

    world.on_read = flush

    def record(e: Any, env: dict[str, Any], value: Any, role: str) -> None:
        """Pin `e` to the value the simulator saw. Runs of one claim share prefixes (the same decisions, so the same
        world): a term built after the same prefix is reused, with the pins and definitions its building added."""
        start_of_record = len(builder.pins)
        event = env.get("__event") or {}
        step = (id(e), env.get("email"), env.get("actor"), repr(sorted(event.items())), role)
        key = (prefix[0], *step)
        settings_only = reads_settings_only(model, e, space.settings_only)
        if settings_only:
            # A term that reads only settings (no mail, no message, no member of a list) is the same after any
            # decisions: it depends on the kinds' classes, the names it is given, and which settings events changed
            # (and to what), not on the prefix. So it is built once per claim, not once per rule path.
            changed = tuple(sorted((o, n, world.org[n] if o == "org" else world.parties[o].kind if n == "kind"
                                    else world.parties[o].settings.get(n)) for o, n in world.overwritten))
            cache_key: tuple[Any, ...] = ("settings", shape, *step, _names(env), changed)
        else:
            cache_key = key
        found = space.terms.get(cache_key)
        group = None
        if found is None and not settings_only:
            group = (shape, *step, _names(env))
            # The same expression at the same point of another run, after other decisions: its term is this one if
            # everything its building read of the world reads the same here (asked without the reads counting as
            # the run's: a read only settles which term this is).
            world.on_read = None
            try:
                found = next((term for log, term in space.by_reads.get(group, ()) if _same(world, log, event)), None)
            finally:
                world.on_read = flush
            if found is not None:
                space.terms[cache_key] = found
        email = env.get("email")
        if found is None:
            builder.role = role
            reads = _Reads(world)
            world.on_read = None  # the fields it reads are flushed below, from its reads, as for a term reused
            saved = builder.world
            builder.world = cast(World, reads)  # `reads` stands in for the world
            try:
                start, named = len(builder.pins), len(builder.defined)
                term = builder.term(e, {**quiet(env), "__world": reads})
            finally:
                builder.world = saved
                world.on_read = flush
            # the fields set by effects that the term read, its definitions' terms included (their reads are
            # replayed into the log when they are reused)
            fields = tuple(dict.fromkeys((key[2][0], key[3]) for key, _ in reads.log
                                         if key[0] == "get" and key[1] == "email" and key[2] is not None
                                         and key[3] in EFFECT_FIELDS))
            found = (term, builder.pins[start:], tuple(builder.defined[named:]), fields)
            space.terms[cache_key] = found
            if group is not None:
                space.by_reads.setdefault(group, []).append((tuple(reads.log), found))
        else:
            builder.pins.extend(found[1])
            builder.defs.setdefault((email[0] if email else "", role), set()).update(found[2])
            builder.defined.extend(found[2])
        pin_key = (id(found[0]), e.type, repr(value))  # found[0] is kept in space.terms: its id is not reused
        pin = space.pins.get(pin_key)
        if pin is None:
            pin = space.pins[pin_key] = eq(found[0], space.const(value, e.type))
        builder.pins.append(pin)
        prefix[0] = hash((key, repr(value)))
        if role in EFFECT_FIELDS and email is not None:  # held back until something reads the field
            held = builder.pins[start_of_record:]
            del builder.pins[start_of_record:]
            pending.setdefault((email[0], role), []).extend(held)
        # What fixed the fields the term read joins this run's path condition now, not held back with this
        # record's own field: the value recorded depends on them whether or not anything reads that field (a
        # review found a Regarding that rested on a token whose pins were held back, then dropped, with another).
        for message, field in found[3]:
            flush(message, field)

    sim.recorder = record
    failure = ""
    try:
        outcomes = {o.key: o for o in sim.run()}
        feasible = True
    except TrackproofError as err:
        if err.code != "E404":
            raise
        outcomes, feasible, failure = {}, False, f"{err.message} (at {err.loc})"
    world.on_read = None
    sim.recorder = None  # the run, its builder and `record` no longer hold each other (no cycle left to collect)
    for message, field in list(pending):  # the fields the caller reports are part of the outcome
        if keep is None or field in keep:
            flush(message, field)
    holds = False
    if feasible:
        env = outcome_env(outcomes, world, scenario.participants, (k for k in outcomes if "." not in k))
        holds = bool(sim.compiler.compile(claim.conclusion)(env))
        # The conclusion may read settings or kinds itself (`C.kind == 'contact'`, `org.two_activities`), not only
        # outcomes: each setting it may read is pinned to this run's value, so the path's condition fixes them and
        # every configuration on the path gives the conclusion the same value.
        reads = conclusion_reads(model, claim, space)
        space.read.update(reads)  # so that the next runs take these settings from Z3's proposals
        pins += [space.equals(s, settings[s]) for s in reads]
    condition = all_of(pins + builder.pins)
    return PathRun(condition, feasible, outcomes, holds, settings, failure, builder.defs)


def _names(env: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The names an environment gives (parties, emails), without the run's bookkeeping."""
    return tuple(sorted((k, v) for k, v in env.items() if not k.startswith("__") and k not in ("org", "event")))


class _Reads:
    """The world as the building of one term sees it: every read is kept with the value it gave, so that the term
    can serve another run whose world gives the same values (run_path). Symbolic terms read the world only through
    `get`, `members` (which reads nothing), `overwritten` and `org`, like the compiled expressions they evaluate."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.log: list[tuple[tuple[Any, ...], Any]] = []
        self.overwritten = _Logged(self, "overwritten", lambda key: key in world.overwritten)
        self.org = _Logged(self, "org", lambda key: world.org[key])

    def get(self, owner: str, obj: Any, name: str, env: dict[str, Any]) -> Any:
        value = self.world.get(owner, obj, name, env)
        # a party's field may be its copy of the current email; an event's field is the event's (the same event
        # wherever the term is reused)
        self.log.append((("get", owner, obj, name, env.get("email") if owner == "party" else None), value))
        return value

    def members(self, coll: Any) -> tuple[Any, ...]:
        return self.world.members(coll)


class _Logged:
    def __init__(self, reads: _Reads, what: str, look: Any) -> None:
        self.reads, self.what, self.look = reads, what, look

    def _read(self, key: Any) -> Any:
        value = self.look(key)
        self.reads.log.append(((self.what, key), value))
        return value

    def __contains__(self, key: Any) -> bool:
        return bool(self._read(key))

    def __getitem__(self, key: Any) -> Any:
        return self._read(key)


def _same(world: World, log: tuple[tuple[tuple[Any, ...], Any], ...], event: dict[str, Any]) -> bool:
    """Whether every read in `log` gives the same value in `world` (a read of something this world does not have
    gives no value)."""
    try:
        for (what, *key), value in log:
            if what == "get":
                owner, obj, name, email = key
                now = world.get(owner, obj, name, {"email": email, "__event": event, "__assumed": None})
            elif what == "overwritten":
                now = key[0] in world.overwritten
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
        found = e.owner == "org" or (e.owner == "party" and (str(e.value) in groups["party"] or
                                                             str(e.value) in groups["mailbox"])
                                     and e.args[0].kind in ("var", "const"))
    elif kind in ("quant", "first") or (kind == "cmp" and e.args[1].type == PARTY_SET):
        found = False
    elif kind == "call":  # arguments too are evaluated on this run's values: only names given or constants
        found = all(a.kind in ("var", "const") for a in e.args) and reads_settings_only(
            model, model.definitions[str(e.value)].body, memo)
    else:
        found = all(reads_settings_only(model, a, memo) for a in e.args)
    memo[key] = found
    return found


def _assume(model: Model, claim: Claim, space: Space) -> list[z3.BoolRef]:
    out = list(space.background)
    world = World(model, claim.scenario)
    builder = Builder(space, world, engine(model).compiler)
    env: dict[str, Any] = {"org": None, "email": None, "__event": {}, "__used": None, "__assumed": None,
                           "__world": world, **{pid: pid for pid in claim.scenario.participants}}
    for c in model.vocabulary.constraints:
        for pid, p in claim.scenario.participants.items():
            if p.kind in ("user", "queue") or (pid, "kind") in space.vars:
                out.append(builder.term(c.expr, {**env, "p": pid}))
    if claim.assume is not None:
        out.append(builder.term(claim.assume, env))
    return out + builder.pins


def _mentioned(space: Space, formulas: list[z3.BoolRef]) -> set[Setting]:
    """The settings a list of formulas mentions."""
    by_name = {space.label(s): s for s in space.vars}
    return {by_name[name] for name in constants(list(formulas)) if name in by_name}


def _settings(space: Space, m: z3.ModelRef) -> dict[Setting, Any]:
    """Every free setting's value in `m`; one the model leaves open takes its default (any value would do).
    Only the settings some run read or a constraint mentions are read from `m`; the others keep their defaults."""
    out: dict[Setting, Any] = dict(space.defaults)
    out.update(space.assigned(m, space.read | space.constrained))  # one the model leaves open keeps its default
    return out


def _emails(claim: Claim) -> list[str]:
    return [str(e.params["id"]) for e in claim.scenario.events if e.kind == "send"]


def enumerate_paths(model: Model, claim: Claim, space: Space, base: list[z3.BoolRef],
                    every_field: bool = False, explain: bool = True) -> tuple[list[PathRun], str]:
    """Every rule path of the premise over the claim's scope; '' or the solver's reason for giving up.
    The paths distinguish the outcome fields the conclusion reads, or all of them with `every_field`. Without
    `explain`, the outcomes' reasons do not say in words why a rule did not fire (for runs that are never shown)."""
    keep: set[str] | None = None if every_field else set(_reads(claim)[1])
    solver = new_solver()
    solver.set("rlimit", RLIMIT)
    add(solver, base)
    # A run reads from Z3's model only the settings some condition mentions (the rest keep their defaults), so the
    # scope's own constraints count as mentioned from the start.
    space.constrained |= _mentioned(space, base)
    paths: list[PathRun] = []
    while len(paths) < MAX_PATHS:
        answer = check(solver)
        if answer == UNKNOWN:
            return paths, f"Z3 gave up: {solver.reason_unknown()}"
        if answer == UNSAT:
            return paths, ""
        found = solver.model()
        settings = _settings(space, found)
        path = run_path(model, claim, space, settings, keep, explain)
        # The tests turn this on: the two compilations of the model (simulator and Z3) must agree on every run.
        if os.environ.get("TRACKPROOF_SELF_CHECK"):
            pairs = [(space.vars[k], space.const(v, space.attrs[k].type)) for k, v in settings.items()]
            if not z3.is_true(z3.simplify(z3.substitute(path.condition, *pairs))):
                raise AssertionError(f"path condition of claim {claim.id} excludes the settings that produced it")
        paths.append(path)
        add(solver, [neg(path.condition)])
    return paths, f"more than {MAX_PATHS} rule paths"


def _cube_formula(space: Space, cube: dict[Setting, list[Any]]) -> z3.BoolRef:
    return all_of([any_of([space.equals(s, v) for v in values]) for s, values in cube.items()])


def _domain(model: Model, space: Space, s: Setting) -> list[Any]:
    typ = space.attrs[s].type
    if typ == "bool":
        return [True, False]
    if s[1] == "kind":
        return list(space.claim.kinds[s[0]])
    return list(model.vocabulary.enums[typ])


def _preference(model: Model, space: Space, s: Setting) -> list[Any]:
    """A setting's values in the order a canonical choice tries them: its default, then its domain's order."""
    default = space.defaults[s]
    return [default, *(v for v in _domain(model, space, s) if v != default)]


def earliest(model: Model, space: Space, solver: z3.Solver, order: list[Setting],
             extra: tuple[z3.BoolRef, ...] = ()) -> dict[Setting, Any]:
    """The earliest point (in `order`, each setting's values by _preference) that `solver`'s assertions and `extra`
    allow; they must allow one. Where the rest of the settings can all stay at their defaults, one query settles
    them."""

    def possible(*assumptions: z3.BoolRef) -> bool:
        answer = check(solver, *extra, *assumptions)
        if answer == UNKNOWN:  # pragma: no cover - these queries are far below the resource limit
            raise AssertionError(f"Z3 gave up on a canonical choice: {solver.reason_unknown()}")
        return answer == SAT

    chosen: dict[Setting, Any] = {}
    fixed: list[z3.BoolRef] = []
    # The "rest at defaults" query is known to fail up to `blocked`: the last one's unsat core holds, besides
    # settings already chosen, only defaults of settings from `blocked` on, and each later query up to there asks
    # all of those again. Skipping it changes no answer, only the number of queries.
    blocked = -1
    for i, s in enumerate(order):
        values = _preference(model, space, s)
        if i > blocked:
            rest = [space.equals(k, space.defaults[k]) for k in order[i:]]
            if possible(*fixed, *rest):
                chosen.update((k, space.defaults[k]) for k in order[i:])
                break
            core = core_ids(solver)
            at = [j for j, atom in enumerate(rest) if atom.get_id() in core]
            blocked = i + (at[0] if at else len(rest))
            if at == [0]:  # the default of `s` alone (with the settings chosen) is impossible
                values = values[1:]
        value = next((v for v in values[:-1] if possible(*fixed, space.equals(s, v))), values[-1])
        chosen[s] = value
        fixed.append(space.equals(s, value))
    return chosen


def _core(space: Space, solver: z3.Solver, cube: dict[Setting, list[Any]]) -> set[Setting] | None:
    """None if `cube` meets `solver`'s assertions; else the settings of an unsat core (those the proof needs)."""
    parts = {s: any_of([space.equals(s, v) for v in values]) for s, values in cube.items()}
    if check(solver, *parts.values()) != UNSAT:
        return None
    core = core_ids(solver)
    return {s for s, part in parts.items() if part.get_id() in core}


class Regions(NamedTuple):
    """One claim's two solvers, built once and asked by every query that follows the proof: `inside` holds the
    scope and the region where the claim holds (and can happen), `outside` the scope and where it does not hold.
    Cubes the cover has taken are excluded from `inside` only under the assumption `fresh`."""

    inside: z3.Solver
    outside: z3.Solver
    fresh: z3.BoolRef


def regions(base: list[z3.BoolRef], good: z3.BoolRef, bad: z3.BoolRef) -> Regions:
    """`bad`: where the claim does not hold, within base (rule paths cover the scope and never overlap, so the
    violating paths' conditions are exactly the scope minus where it holds: a disjunction Z3 takes in faster than
    the negation of the other paths)."""
    inside = new_solver()
    add(inside, [*base, good])
    outside = new_solver()
    outside.set("rlimit", RLIMIT)
    add(outside, [*base, bad])
    return Regions(inside, outside, z3.Bool(f"!fresh{next(_fresh)}"))


_fresh = itertools.count()


def holds_when(model: Model, space: Space, good: z3.BoolRef, holds: z3.BoolRef,
               solvers: Regions) -> list[dict[Setting, list[Any]]] | None:
    """Cover the settings where the claim holds (and can happen) with readable cubes (DESIGN.md, holds_when);
    None when that takes more than MAX_CUBES cubes (a list that long is not a readable condition, and a shorter
    one would not be exact). `solvers`: regions() of the scope, `good` and where the claim does not hold; `holds`
    (good, or where the premise cannot happen) only says which settings may matter."""
    finder, implies, fresh = solvers
    cubes: list[dict[Setting, list[Any]]] = []
    # A setting neither region mentions cannot matter: it is dropped without asking the solver.
    mentioned = _mentioned(space, [good, holds])
    order = [s for s in space.vars if s in mentioned]
    while check(finder, fresh) == SAT:
        if len(cubes) == MAX_CUBES:
            return None
        # Each cube grows from the earliest point not yet covered (the defaults first, then each domain's order),
        # not from whatever model Z3 returns: the cubes then depend only on the region, never on Z3's search.
        cube = {s: [v] for s, v in earliest(model, space, finder, order, (fresh,)).items()}
        # `needed`: the settings of an unsat core of "cube and not holds". A setting outside it can be dropped
        # without asking (the core's own literals still rule the rest out), so the greedy below asks Z3 only where
        # the answer is not already known, and decides exactly as if it asked every time.
        needed = _core(space, implies, cube)
        for s in order:
            trial = {k: v for k, v in cube.items() if k != s}
            if needed is not None and s not in needed:
                cube = trial
                continue
            found = _core(space, implies, trial)
            if found is not None:
                cube, needed = trial, found
                continue
            domain = _domain(model, space, s)
            for value in domain:
                if value in cube[s] or len(cube[s]) == len(domain) - 1:  # all values: the drop just refused
                    continue
                trial = {**cube, s: [*cube[s], value]}
                found = _core(space, implies, trial)
                if found is not None:
                    cube, needed = trial, found
            cube[s] = [v for v in domain if v in cube[s]]
        cubes.append(cube)
        finder.add(z3.Implies(fresh, neg(_cube_formula(space, cube))))
    return _tidy(space, finder, cubes)


def _tidy(space: Space, solver: z3.Solver, cubes: list[dict[Setting, list[Any]]]) -> list[dict[Setting, list[Any]]]:
    """Drop cubes and values that the other cubes already cover, so each cube says only what it adds. `solver`
    holds the region to cover."""

    def covers(candidate: list[dict[Setting, list[Any]]]) -> bool:
        return check(solver, neg(any_of([_cube_formula(space, c) for c in candidate]))) == UNSAT

    cubes = [dict(c) for c in cubes]
    for i in reversed(range(len(cubes))):
        if len(cubes) > 1 and covers(cubes[:i] + cubes[i + 1:]):
            del cubes[i]
    for i, cube in enumerate(cubes):
        for s in list(cube):
            for value in list(cube[s]):
                if len(cube[s]) == 1:
                    break
                trial = {**cube, s: [v for v in cube[s] if v != value]}
                if covers([*cubes[:i], trial, *cubes[i + 1:]]):
                    cube[s] = trial[s]
                    cubes[i] = cube
    return cubes


def prove_claim(model: Model, claim: Claim, examples: int = 1) -> Verdict:
    """Decide one claim over its whole scope; a violated claim gets up to `examples` counterexamples, each failing
    another way."""
    emails = _emails(claim)
    space = Space(model, claim, emails)
    base = _assume(model, claim, space)
    paths, reason = enumerate_paths(model, claim, space, base, explain=False)  # the runs shown are run again
    feasible = [p for p in paths if p.feasible]
    good = [p for p in feasible if p.holds]
    bad = [p for p in feasible if not p.holds]
    infeasible = [p for p in paths if not p.feasible]
    holds_region = any_of([p.condition for p in good + infeasible])
    rules = _rules(model, claim, feasible)
    if reason:
        return Verdict(claim, "unknown", None, None, None, paths, rules, _confidence(model, rules), reason, space)
    good_region = any_of([p.condition for p in good])
    bad_region = any_of([p.condition for p in bad])
    extra = (holds_region, tuple(base), bad_region)
    solvers = regions(base, good_region, bad_region)
    at_defaults = _at_defaults(space, solvers.outside)
    if not feasible:
        return Verdict(claim, "vacuous", at_defaults, None, None, paths, rules, _confidence(model, rules),
                       "; ".join(sorted({p.failure for p in infeasible})), space, *extra)
    cubes = holds_when(model, space, good_region, holds_region, solvers) if good else []
    shown = None if cubes is None else sorted(({space.label(s): v for s, v in cube.items()} for cube in cubes),
                                              key=repr)
    simply = None if cubes is None else any_of([*(_cube_formula(space, c) for c in cubes),
                                                *(p.condition for p in infeasible)])
    if not bad:
        return Verdict(claim, "proved", at_defaults, shown, None, paths, rules, _confidence(model, rules), "", space,
                       *extra, holds_simply=simply)
    cex = _minimal(model, claim, space, base, bad_region, solvers.outside)
    cex_rules = _rules(model, claim, [cex])
    others = _others(model, claim, space, base, bad_region, cex, examples - 1) if examples > 1 else ()
    return Verdict(claim, "violated", at_defaults, shown, cex, paths, rules, _confidence(model, cex_rules), "", space,
                   *extra, others, simply)


def _others(model: Model, claim: Claim, space: Space, base: list[z3.BoolRef], bad: z3.BoolRef, first: PathRun,
            count: int) -> tuple[PathRun, ...]:
    """Up to `count` more counterexamples, each changing another set of settings. After each one shown, the
    violating configurations that change (at least) all the settings it changes are set aside: they are the same
    reason, with other values or more changes. The next is the closest to the defaults among the rest; so each
    names a minimal set of settings that breaks the claim, fewest first."""

    def changes(settings: dict[Setting, Any]) -> list[z3.BoolRef]:
        return [neg(space.equals(s, space.defaults[s])) for s, v in settings.items()
                if s in space.defaults and v != space.defaults[s]]

    region = [*base, bad, neg(all_of(changes(first.settings)))]
    probe = new_solver()
    out: list[PathRun] = []
    while len(out) < count and check(probe, *region) == SAT:
        settings = closest(model, space, region)
        out.append(run_path(model, claim, space, settings, None))
        region.append(neg(all_of(changes(settings))))
    return tuple(out)


def _at_defaults(space: Space, outside: z3.Solver) -> bool:
    """Whether the claim holds with Dynamics 365's defaults (every kind the claim allows); `outside` holds the scope
    and where the claim does not hold."""
    fixed = [space.equals(s, v) for s, v in space.defaults.items() if s[1] != "kind"]
    return check(outside, *fixed) == UNSAT


def _minimal(model: Model, claim: Claim, space: Space, base: list[z3.BoolRef], bad: z3.BoolRef,
             outside: z3.Solver | None = None) -> PathRun:
    """A run in base and bad with the fewest settings changed from their defaults. `outside`: a solver that already
    holds that region (a claim's Regions.outside, when bad is where it does not hold)."""
    return run_path(model, claim, space, closest(model, space, [*base, bad], solver=outside), None)


def closest(model: Model, space: Space, region: list[z3.BoolRef],
            relevant: set[Setting] | None = None, solver: z3.Solver | None = None) -> dict[Setting, Any]:
    """The settings in `region` with the fewest changes from the defaults, chosen canonically: the answer depends
    only on the region, never on the order Z3 searches in. `relevant`: the settings the region may mention (by
    default those the space's runs read); the others keep their defaults. `solver`: one that already holds exactly
    `region` (it is then asked, not built; nothing is added to it).

    First the fewest changes k (asking "at most k changes?" for k = 0, 1, ...); then, setting by setting in the
    space's order, the first value (the default, then the domain's order) that still leaves a point of the region
    with at most k changes."""
    relevant = relevant if relevant is not None else space.read | space.constrained
    mentioned = _mentioned(space, region)  # the others keep their defaults whatever the region
    order = [s for s in space.vars if s in relevant and s in mentioned]
    if solver is None:
        solver = new_solver()
        solver.set("rlimit", RLIMIT)
        add(solver, region)
    changed = [neg(space.equals(s, space.defaults[s])) for s in order]
    bound = 0
    while True:
        at_most = z3.AtMost(*changed, bound) if changed else z3.BoolVal(True)
        answer = check(solver, at_most)
        if answer == SAT:
            break
        if answer == UNKNOWN or bound >= len(changed):  # pragma: no cover - the region is known to be non-empty
            raise AssertionError(f"no point in a non-empty region ({solver.reason_unknown()})")
        bound += 1
    return {**space.defaults, **earliest(model, space, solver, order, (at_most,))}


def _reads(claim: Claim) -> tuple[set[str], set[str]]:
    """The emails the conclusion names, and the outcome fields it reads (a rule that only sets another field
    cannot affect the verdict)."""
    names: set[str] = set()
    fields: set[str] = set()
    stack = [claim.conclusion]
    while stack:
        e = stack.pop()
        if e.kind == "var" and e.type == OUTCOME:
            names.add(str(e.value))
        elif e.kind == "attr" and e.owner == OUTCOME:
            fields.add(str(e.value))
        stack.extend(e.args)
    return names, fields


def _rules(model: Model, claim: Claim, paths: list[PathRun]) -> tuple[str, ...]:
    """The rules behind the emails the conclusion names, in the model's order (transitions, then definitions)."""
    names, fields = _reads(claim)
    found: set[str] = set()
    transitions = {t.id for t in model.transitions}
    for p in paths:
        for key, outcome in p.outcomes.items():
            if key.split(".")[0] in names:
                found.update(r for r in outcome.rules if r in transitions)
        # An action's condition matters only where the action changed the world (records were created).
        acted = any(step.trigger == "create_records" for o in p.outcomes.values() for step in o.steps)
        for (message, role), defs in p.definitions.items():
            if message in names and (role == "guard" or role in fields or (role == "action" and acted)):
                found.update(defs)
    order = [t.id for t in model.transitions] + list(model.definitions)
    return tuple(r for r in dict.fromkeys(order) if r in found)


def _confidence(model: Model, rules: tuple[str, ...]) -> str:
    levels = [model.rule(r).provenance.confidence for r in rules]
    return min(levels, key="LMH".index) if levels else "H"
