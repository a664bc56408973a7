"""`trackproof diff A B`: what changes between two configurations, over every event sequence of a universe, proved
not sampled (DESIGN.md, "Telling settings apart").

A and B are settings files (a YAML file whose `settings: {org: {...}}` gives organisation settings; what it leaves out
is at the documented default) or names of synchronization modes for user X (server_side_sync, outlook_client,
forward_mailbox, none). The universe is `gaps`' (stories.py): user X and an outside party C (a contact, or an
address no record has), plus what `--with` adds or a universe file, every sequence of up to AFTER events after each
story's start. X's mailbox is approved and enabled and X's other settings range freely.

Each story is explored once, not once per side: the settings A and B agree on are fixed, and those they disagree on
range over exactly A's values and B's (the "side"). A situation (a story's own events; sync cycles and Outlook
starting are time passing: classes.py) under X's settings s ends, with side A, in the classes whose settings hold
for s and A. It differs between A and B where it can end in one outcome only with A and in another only with B: the
class regions with the side put to A's values and to B's, asked of Z3 together, for every pair of outcomes of one
situation. Each difference is shown with the settings of X closest to the defaults, and the shortest sequence of the
situation under A and under B, replayed through the simulator to the outcomes the exploration found.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import z3

from ..errors import Loc, TrackproofError
from ..prove.behaviours import replay
from ..prove.regions import closest
from ..prove.rulepaths import premise_under
from ..prove.sensitivity import default_readings
from ..prove.setup import Setup, prepare
from ..prove.z3api import SAT, add, all_of, any_of, check, neg, new_solver
from ..simulate.outcomes import Outcome
from ..simulate.scenario_file import scenario_text, value_text
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.settings import load_settings_file
from .situations import Key, Member, Situation, class_regions, own_bound, reading_fields, whole, witness
from .stories import AFTER, RESHAPED, cast_of, depth_of, stories
from .words import group_of, outcome_text, setting_words, situation_text


def modes(model: Model) -> dict[str, dict[Setting, Any]]:
    """The modes a diff may name (the machines' `mode` in model/machines/), as settings of user X and the org."""
    return {name: {("org" if owner == "org" else "X", setting): value for (owner, setting), value in m.mode.items()}
            for name, m in model.machines.items() if m.mode}


@dataclass(frozen=True)
class Difference:
    id: str
    sentence: str
    settings: dict[str, Any]  # X's settings (changes from the defaults) that show it
    outcome_a: dict[str, str]
    outcome_b: dict[str, str]
    scenario_a: str
    scenario_b: str
    group: str  # what the first message is: received, sent from Dynamics 365, sent from Outlook


@dataclass(frozen=True)
class DiffResult:
    a: str
    b: str
    situations: int  # the situations compared
    stories: int
    universe: str  # the universe file explored ("": gaps' stories)
    depth: int  # the most events after a story's start
    differences: list[Difference]
    compared: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # each setting A and B differ in: (A's, B's)
    names: tuple[str, str] = ("A", "B")  # how the sentences name A and B


def setup_of(model: Model, source: str) -> dict[Setting, Any]:
    """The fixed settings a name or settings file stands for (X's mailbox configured, approved and enabled)."""
    fixed: dict[Setting, Any] = {("org", k): a.default for k, a in model.vocabulary.groups["org"].items()}
    fixed.update({("X", "approved"): True, ("X", "enabled"): True})
    named = modes(model)
    if source in named:
        fixed.update(named[source])
        return fixed
    try:
        org = load_settings_file(model, source)
    except TrackproofError as err:
        # a name that is no mode and no file is one or the other mistyped; a path (a folder in it, or a YAML
        # file's ending) is a file not found, and a file that is there but unreadable says why
        looks_like_a_path = os.sep in source or source.endswith((".yaml", ".yml"))
        if err.code == "E101" and not os.path.lexists(source) and not looks_like_a_path:
            raise TrackproofError("E402", f"'{source}' is neither a settings file nor a mode",
                                  Loc(source, 0, 0), "modes: " + ", ".join(named)) from None
        raise
    fixed.update({("org", k): v for k, v in org.items()})
    mailbox = model.vocabulary.groups["mailbox"]
    fixed.update({("X", "incoming"): mailbox["incoming"].default, ("X", "outgoing"): mailbox["outgoing"].default})
    return fixed


def _name(source: str) -> str:
    return os.path.splitext(os.path.basename(source))[0]  # a mode's name is its own


def _shown(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {k: (o.status or "stored") if o.stored else "not stored" for k, o in sorted(outcomes.items())}


@dataclass(frozen=True)
class _Side:
    """The settings A and B disagree on, at one side's values."""

    name: str
    values: dict[Setting, Any]

    def put(self, setup: Setup, formula: z3.BoolRef) -> z3.BoolRef:
        return setup.space.substituted(formula, self.values)


@dataclass(frozen=True)
class _Found:
    """A difference before it is worded: the situation, each side's class, X's settings, the replayed runs."""

    key_a: Key
    key_b: Key
    settings: dict[Setting, Any]  # X's settings, without the side
    changed: dict[Setting, Any]
    events_a: tuple[Any, ...]
    events_b: tuple[Any, ...]
    outcomes_a: dict[str, Outcome]
    outcomes_b: dict[str, Outcome]
    story: int
    ways: tuple[int, int]  # how many outcomes the situation can end in under A and under B, with these settings

    def differing(self) -> dict[str, tuple[Any, Any]]:
        """Each message whose outcome differs, with its outcome under A and under B."""
        a, b = dict(self.key_a[1]), dict(self.key_b[1])
        return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def diff(model: Model, a: str, b: str, extras: tuple[str, ...] = (), universe: list[Claim] | None = None,
         jobs: int = 1, where: str = "") -> DiffResult:
    """Every situation of the universe whose outcome differs between A and B (module docstring); `universe`: the
    universe claims of the file `where` instead of the stories."""
    from ..parallel import parallel_map

    fixed_a, fixed_b = setup_of(model, a), setup_of(model, b)
    keys = list(dict.fromkeys([*fixed_a, *fixed_b]))
    defaults = _defaults(model)
    value_a = {s: fixed_a.get(s, defaults.get(s)) for s in keys}
    value_b = {s: fixed_b.get(s, defaults.get(s)) for s in keys}
    common = {s: v for s, v in value_a.items() if value_b[s] == v}
    names = (_name(a), _name(b)) if _name(a) != _name(b) else (a, b)  # two files of one name: their paths
    sides = (_Side(names[0], {s: v for s, v in value_a.items() if s not in common}),
             _Side(names[1], {s: v for s, v in value_b.items() if s not in common}))
    compared = {f"{o}.{n}": (value_a[(o, n)], value_b[(o, n)]) for o, n in keys if (o, n) not in common}
    told = [_with_fixed(model, s, common, set(sides[0].values)) for s in universe] if universe is not None else \
        stories(model, cast_of([], extras), common, shapes=True)
    if not sides[0].values:  # A and B give every setting the same value
        return DiffResult(a, b, 0, 0, where, AFTER, [], {}, names)

    def explore_one(index: int) -> tuple[int, list[_Found]]:
        return _compare(model, told[index], index, sides)

    results = list(parallel_map(explore_one, list(range(len(told))), jobs))
    found = [f for _, fs in results for f in fs]
    # Canonical: by the settings changed, the length of the situation, the story, then the outcomes (not the order
    # Z3 found them in).
    found.sort(key=lambda f: (len(f.changed), len(f.key_a[0]), _shaped(f.key_a[0]), f.story, repr(f.key_a),
                              repr(f.key_b)))
    kept: list[_Found] = []
    differences: list[Difference] = []
    said: set[str] = set()
    for f in found:
        if _told(f, kept):
            continue
        d = _difference(told[f.story], f, sides, len(differences) + 1)
        if d.sentence in said:
            continue
        said.add(d.sentence)
        kept.append(f)
        differences.append(d)
    return DiffResult(a, b, sum(n for n, _ in results), len(told), where, AFTER, differences, compared, names)


def _defaults(model: Model) -> dict[Setting, Any]:
    groups = model.vocabulary.groups
    out: dict[Setting, Any] = {("org", k): v.default for k, v in groups["org"].items()}
    out.update({("X", k): v.default for k, v in groups["mailbox"].items() if v.default is not None})
    return out


def _with_fixed(model: Model, story: Claim, fixed: dict[Setting, Any], compared: set[Setting]) -> Claim:
    """A universe claim of the consultant's file with the settings A and B agree on fixed (those of its own
    participants and of the org), and those they disagree on free (added to its `free` list, if it has one)."""
    if story.scenario.participants.get("X") is None or story.scenario.participants["X"].kind != "user":
        raise TrackproofError("E401", f"the universe claim '{story.id}' has no user X: diff compares the settings of "
                              "user X (a mode is X's incoming and outgoing methods)", story.loc,
                              "name the user whose mailbox A and B configure X")
    mine = {s: v for s, v in fixed.items() if s[0] == "org" or s[0] in story.scenario.participants}
    fixed_all = {**mine, **story.fixed}
    free = None if story.free is None else tuple(dict.fromkeys(
        [*(s for s in story.free if s not in fixed_all), *sorted(compared)]))
    return replace(story, fixed=fixed_all, scenario=premise_under(story, fixed_all), free=free)


def _compare(model: Model, story: Claim, index: int, sides: tuple[_Side, _Side]) -> tuple[int, list[_Found]]:
    """The differences of one story: (the situations compared, the differences found)."""
    from ..prove.reach import explore

    setup = prepare(model, story)
    space = setup.space
    missing = sorted({f"{o}.{n}" for side in sides for o, n in side.values if (o, n) not in space.vars})
    if missing:  # a universe claim of the consultant's that fixes them (the stories leave them free)
        raise TrackproofError("E403", f"the universe claim '{story.id}' fixes {', '.join(missing)}, which A and B "
                              "set differently", story.loc, "leave those settings out of its scope: diff sets them")
    side_of = [all_of([space.equals(s, v) for s, v in side.values.items()]) for side in sides]
    either = z3.Or(*side_of) if side_of else z3.BoolVal(True)
    explored = replace(setup, base=(*setup.base, *default_readings(space), either))
    depth = depth_of(story)
    result = explore(model, reading_fields(model, story), explored, max_depth=depth, own=own_bound(story))
    if result.reason:
        raise TrackproofError("E408", f"the universe is too large to explore: {result.reason}", story.loc)
    groups, regions, shortest = class_regions(story, result, depth, fresh=True)
    base = [*setup.base, *default_readings(space)]
    solver = new_solver()
    add(solver, base)
    by_situation: dict[Any, list[Key]] = {}
    for k in sorted(regions, key=repr):
        if len(k[0]) >= shortest:
            by_situation.setdefault(k[0], []).append(k)
    found: list[_Found] = []
    for keys in by_situation.values():
        on_a = {k: sides[0].put(setup, regions[k]) for k in keys}
        on_b = {k: sides[1].put(setup, regions[k]) for k in keys}
        for ka in keys:
            for kb in keys:
                # an ending with A and another with B, one of which the other side never reaches there
                region = all_of([on_a[ka], on_b[kb], any_of([neg(on_b[ka]), neg(on_a[kb])])])
                if kb == ka or check(solver, region) != SAT:
                    continue
                found.append(_witness(model, story, setup, sides, index, (ka, kb), groups, [*base, region],
                                      (on_a, on_b)))
    return len(by_situation), found


def _witness(model: Model, story: Claim, setup: Setup, sides: tuple[_Side, _Side], index: int,
             pair: tuple[Key, Key], groups: dict[Key, list[Member]], region: list[z3.BoolRef],
             ends: tuple[dict[Key, z3.BoolRef], dict[Key, z3.BoolRef]]) -> _Found:
    space = setup.space
    chosen = closest(model, space, region)
    settings = {s: v for s, v in chosen.items() if s not in sides[0].values}
    changed = {s: v for s, v in settings.items() if space.defaults.get(s) != v}
    # how many ways the situation can end on each side under these settings (a side may have more than one: an
    # email deleted in Outlook before or after the sync that would track it)
    ways = (sum(space.holds(ends[0][k], settings) for k in ends[0]),
            sum(space.holds(ends[1][k], settings) for k in ends[1]))
    runs = []
    for side, key in zip(sides, pair, strict=True):
        under = {**settings, **side.values}
        events = witness(setup, groups[key], key[0], under)
        outcomes = replay(model, story, under, events)
        if whole(outcomes) != key[1]:  # pragma: no cover - the exploration and the simulator disagree: a bug
            raise AssertionError(f"a difference's scenario does not replay to its outcome: {events}")
        runs.append((events, outcomes))
    (events_a, outcomes_a), (events_b, outcomes_b) = runs
    return _Found(pair[0], pair[1], settings, changed, events_a, events_b, outcomes_a, outcomes_b, index, ways)


def _plain(situation: Situation) -> Situation:
    """A situation without how its replies were written (RESHAPED): a reply with a new subject that two
    configurations end as they end the usual reply teaches nothing more."""
    return tuple((kind, tuple((k, v) for k, v in params if k not in RESHAPED)) for kind, params in situation)


def _shaped(situation: Situation) -> int:
    """How many of its events are replies written in another shape (the usual ones are told first)."""
    return sum(any(k in RESHAPED for k, _ in params) for _, params in situation)


def _told(f: _Found, earlier: list[_Found]) -> bool:
    """Whether earlier differences already tell this one: every message that differs here differs the same way in
    one of them, whose situation is this one's or its beginning (in any story) and whose settings are among this
    one's. A reply after an email the two configurations store differently, the reply itself ending alike, says
    nothing new; nor does removing the category from an email only one of them stored, a reply whose two
    differences (the email's filter, the reply's client) were each shown alone, or a reply with a new subject
    that ends as the usual reply does."""
    situation = _plain(f.key_a[0])

    def tells(e: _Found, message: str, ends: tuple[Any, Any]) -> bool:
        shorter = _plain(e.key_a[0])
        return (situation[:len(shorter)] == shorter and e.changed.items() <= f.changed.items()
                and e.differing().get(message) == ends)

    return all(any(tells(e, message, ends) for e in earlier) for message, ends in f.differing().items())


def _difference(story: Claim, f: _Found, sides: tuple[_Side, _Side], number: int) -> Difference:
    events = f.events_a
    differing = f.differing()
    situation = situation_text(events)
    when = f", when {setting_words(f.changed)}" if f.changed else ""

    def said(outcomes: dict[str, Outcome], played: tuple[Any, ...], ways: int) -> str:
        text = "; ".join(outcome_text(k, o, played) for k, o in sorted(outcomes.items()) if k in differing)
        return text + (f" (one of the {ways} ways it can end)" if ways > 1 else "")

    name_a, name_b = sides[0].name, sides[1].name
    sentence = (f"{situation}{when}: with {name_b}, {said(f.outcomes_b, f.events_b, f.ways[1])}; with {name_a}, "
                f"{said(f.outcomes_a, f.events_a, f.ways[0])}.")
    files = [scenario_text(replace(story, text=situation), dict(story.fixed), {**f.settings, **side.values}, outcomes,
                           title=f"{situation} (with {side.name})", events=played, parent=True)
             for side, outcomes, played in ((sides[0], f.outcomes_a, f.events_a), (sides[1], f.outcomes_b, f.events_b))]
    return Difference(f"D{number}", sentence, {f"{o}.{n}": v for (o, n), v in f.changed.items()},
                      _shown(f.outcomes_a), _shown(f.outcomes_b), files[0], files[1], group_of(events))


def _count(n: int, word: str, words: str = "") -> str:
    return f"{n:,} {word if n == 1 else words or word + 's'}"


def diff_text(r: DiffResult) -> str:
    head = [_name(r.a) if _name(r.a) == r.a else f"{r.names[0]} ({r.a})",
            _name(r.b) if _name(r.b) == r.b else f"{r.names[1]} ({r.b})"]
    lines = [f"What changes from {head[0]} to {head[1]}", ""]
    if not r.compared:
        lines.append("A and B give every setting the same value: nothing can differ (nothing was explored).")
        return "\n".join(lines) + "\n"
    lines.append("They differ in: " + ", ".join(f"{s} {value_text(a)} -> {value_text(b)}"
                                               for s, (a, b) in r.compared.items()))
    told = f"the {_count(r.stories, 'universe claim')} of {r.universe}" if r.universe else \
        f"{_count(r.stories, 'story', 'stories')} (each first message, and emails tracked by hand)"
    lines += [f"Explored: {told}, every sequence of up to {r.depth} events after each start with at most one own "
              "event after it (sync cycles and Outlook starting between), X's mailbox approved and enabled, its "
              f"other settings and the other parties' free, the disputed readings at their defaults; "
              f"{_count(r.situations, 'situation')} compared.", ""]
    if not r.differences:
        lines.append("Nothing differs in any situation, under any setting of X: proved (every reachable world of "
                     "both compared with Z3), not sampled.")
        return "\n".join(lines) + "\n"
    lines.append(f"{_count(len(r.differences), 'difference')} (every reachable world of both compared with Z3; "
                 "'when' gives the settings closest to the defaults that show it):")
    for d in r.differences:
        lines.append(f"  {d.id}. {d.sentence}")
    return "\n".join(lines) + "\n"


def diff_json(r: DiffResult) -> dict[str, Any]:
    return {"a": r.a, "b": r.b, "compared": {s: list(v) for s, v in r.compared.items()},
            "situations": r.situations, "stories": r.stories, "universe": r.universe, "depth": r.depth,
            "differences": [asdict(d) for d in r.differences]}
