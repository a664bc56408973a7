"""A brute-force checker: play a claim's premise under every combination of the given settings, through the
simulator alone (no solver). It exists to check the prover (tests) and to measure it (bench); it is exhaustive
only over the settings it is given, which is the whole scope only for small claims.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import z3

from ..errors import TrackproofError
from ..simulate.alphabet import instances
from ..simulate.engine import Simulator
from ..simulate.outcomes import outcome_env
from ..simulate.state import capture, key, observable, restore
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.scenario import Event, Scenario
from ..spec.universe import universe_emails
from .rulepaths import premise_under
from .scope import Space


def domain(model: Model, claim: Claim, setting: Setting) -> list[Any]:
    if setting[1] == "kind":
        return list(claim.kinds[setting[0]])
    from ..spec.claims import setting_attribute

    participant = claim.scenario.participants.get(setting[0])
    attr = setting_attribute(model, setting[0], setting[1], participant.kind if participant else None)
    assert attr is not None, setting
    return [True, False] if attr.type == "bool" else list(model.vocabulary.enums[attr.type])


def assignments(model: Model, claim: Claim, settings: list[Setting]) -> Iterator[dict[Setting, Any]]:
    domains = [domain(model, claim, s) for s in settings]
    for values in itertools.product(*domains):
        yield dict(zip(settings, values, strict=True))


OUT_OF_SCOPE = "out of scope"


def evaluate(model: Model, claim: Claim, settings: dict[Setting, Any]) -> bool | str | None:
    """True or False: the conclusion after the premise; None: the premise cannot happen under these settings;
    OUT_OF_SCOPE: the settings cannot occur together (a vocabulary constraint)."""
    scenario = premise_under(claim, settings)
    try:
        sim = Simulator(model, scenario)
        outcomes = {o.key: o for o in sim.run()}
    except TrackproofError as err:
        if err.code == "E404":
            return None
        if err.code == "E403":
            return OUT_OF_SCOPE
        raise
    env = outcome_env(outcomes, sim.world, scenario.participants, (k for k in outcomes if "." not in k))
    return bool(sim.compiler.compile(claim.conclusion)(env))


def brute_force(model: Model, claim: Claim, settings: list[Setting]) -> dict[tuple[Any, ...], bool | None]:
    """The conclusion's value for every combination of `settings` (others at the claim's fixed values or defaults)."""
    out: dict[tuple[Any, ...], bool | None] = {}
    for a in assignments(model, claim, settings):
        value = evaluate(model, claim, a)
        if value != OUT_OF_SCOPE:
            out[tuple(a.values())] = value  # type: ignore[assignment]
    return out


def verdict_of(results: dict[tuple[Any, ...], bool | None]) -> str:
    values = [v for v in results.values() if v is not None]
    if not values:
        return "vacuous"
    return "proved" if all(values) else "violated"


@dataclass(frozen=True)
class World:
    """One world brute force reached: its mail state, its outcomes, how many prefix events it has played, and
    whether no event of the alphabet changes it any more (a sequence may end there)."""

    state: Any
    outcomes: dict[str, Any]
    played: int
    terminal: bool


def allowed(model: Model, claim: Claim, scenario: Scenario, state: Any, number: int) -> list[Event]:
    """The events a universe claim's alphabet allows in `state`, as event `number` of the sequence."""
    assert claim.universe is not None
    probe = Simulator(model, scenario)
    restore(probe.world, state)
    probe.world.kinds = claim.kinds
    return instances(claim.universe, probe.world, number)


def play_each(model: Model, claim: Claim, scenario: Scenario, state: Any, events: list[Event],
              number: int) -> list[tuple[Event, Simulator | None]]:
    """Each event played from `state` as event `number`, in a simulator of its own: the simulator after it, or
    None where the event is impossible there (E404)."""
    out: list[tuple[Event, Simulator | None]] = []
    for event in events:
        sim = Simulator(model, scenario, explain=False)
        restore(sim.world, state)
        sim.world.kinds = claim.kinds
        try:
            sim.play_event(Event(number, event.kind, event.params, event.locs, event.loc))
        except TrackproofError as err:
            if err.code != "E404":
                raise
            out.append((event, None))
            continue
        out.append((event, sim))
    return out


def reachable(model: Model, claim: Claim, settings: dict[Setting, Any],
              limit: int = 100_000) -> dict[tuple[Any, ...], World]:
    """Every world a universe claim's alphabet reaches under `settings`, by the simulator alone (depth first over
    every event sequence, each world once), by (prefix events played, observable key: simulate/state.py)."""
    assert claim.universe is not None
    prefix = claim.universe.prefix
    scenario = replace(premise_under(claim, settings), events=())
    seen: dict[tuple[Any, ...], World] = {}
    stack: list[tuple[int, Any, dict[str, Any], int]] = [(0, capture(Simulator(model, scenario).world), {}, 0)]
    while stack:
        played, state, outcomes, number = stack.pop()
        node_key = (played, observable(state))
        if node_key in seen:
            continue
        if len(seen) >= limit:
            raise RuntimeError(f"more than {limit} worlds")
        options = [prefix[played]] if played < len(prefix) else allowed(model, claim, scenario, state, number + 1)
        terminal = played >= len(prefix)
        now = played + (1 if played < len(prefix) else 0)
        for _, sim in play_each(model, claim, scenario, state, options, number + 1):
            if sim is None:
                continue
            after = capture(sim.world)
            if (now, key(after)) != (played, key(state)):
                terminal = False
            stack.append((now, after, sim.outcomes_now(), number + 1))
        seen[node_key] = World(state, outcomes, played, terminal)
    return seen


def scope_points(model: Model, claim: Claim, space: Space, base: tuple[z3.BoolRef, ...]) -> list[dict[Setting, Any]]:
    """Every concrete setting of a claim's scope: each combination of its free settings (the rest at their
    defaults) that its constraints allow. Exhaustive only for small scopes (tests, bench)."""
    solver = z3.Solver()
    solver.add(*base)
    out = []
    for a in assignments(model, claim, list(space.vars)):
        settings = {**space.defaults, **a}
        if solver.check(*(space.equals(s, v) for s, v in settings.items())) == z3.sat:
            out.append(settings)
    return out


@dataclass(frozen=True)
class UniverseRun:
    """A universe claim under one concrete setting, by brute force: whether its property holds, whether the
    prefix ever completes and whether the guard (`when`) is ever reached (either missing: it says nothing there)."""

    holds: bool
    prefix_done: bool
    guard_reached: bool


def universe_run(model: Model, claim: Claim, settings: dict[Setting, Any], limit: int = 100_000) -> UniverseRun:
    """The property of a universe claim over every world its alphabet reaches under `settings` (the meaning
    prove/behaviours.py decides symbolically)."""
    assert claim.universe is not None and claim.property is not None
    prop = claim.property
    worlds = reachable(model, claim, settings, limit)

    def value(world: World, expr: Any) -> bool:
        return holds_in(model, claim, settings, world, expr)

    done = any(w.played == len(claim.universe.prefix) for w in worlds.values())
    guarded = [w for w in worlds.values() if prop.when is None or value(w, prop.when)]
    if prop.kind == "reachable":
        holds = any(value(w, claim.conclusion) for w in worlds.values())
    elif prop.kind == "conclusion":
        holds = all(value(w, claim.conclusion) for w in worlds.values() if w.terminal)
    elif prop.kind == "always":
        holds = all(value(w, claim.conclusion) for w in guarded)
    else:
        holds = not any(value(w, claim.conclusion) for w in guarded)
    return UniverseRun(holds, done, bool(guarded))


def holds_in(model: Model, claim: Claim, settings: dict[Setting, Any], world: World, expr: Any) -> bool:
    """The value of one of a universe claim's expressions in `world`, under `settings`."""

    assert claim.universe is not None
    sim = Simulator(model, premise_under(claim, settings), explain=False)
    restore(sim.world, world.state)
    existing = [k for k in world.outcomes if "." not in k]
    env = outcome_env(world.outcomes, sim.world, sim.scenario.participants, existing,
                      universe_emails(claim.universe))
    return bool(sim.compiler.compile(expr)(env))


def universe_verdict(runs: list[UniverseRun]) -> str:
    """The verdict brute force gives over the settings it ran (prove/behaviours.py's meaning of vacuous)."""
    if not any(r.prefix_done for r in runs) or not any(r.guard_reached for r in runs):
        return "vacuous"
    return "proved" if all(r.holds for r in runs) else "violated"
