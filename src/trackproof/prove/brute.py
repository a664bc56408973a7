"""A brute-force checker: play a claim's premise under every combination of the given settings, through the
simulator alone (no solver). It exists to check the prover (tests) and to measure it (bench); it is exhaustive
only over the settings it is given, which is the whole scope only for small claims.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..errors import TrackproofError
from ..simulate.engine import Simulator
from ..simulate.outcomes import outcome_env
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .rulepaths import premise_under


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


def reachable(model: Model, claim: Claim, settings: dict[Setting, Any],
              limit: int = 100_000) -> dict[tuple[Any, ...], Any]:
    """Every world a universe claim's alphabet reaches under `settings`, by the simulator alone (depth first over
    every event sequence, each world once): its key -> (its mail state, its outcomes)."""
    from ..simulate.alphabet import instances
    from ..simulate.state import capture, key, restore
    from ..spec.scenario import Event

    assert claim.universe is not None
    universe = claim.universe
    scenario = premise_under(claim, settings)
    start = Simulator(model, replace(scenario, events=()))
    seen: dict[tuple[Any, ...], Any] = {}
    stack: list[tuple[int, Any, dict[str, Any]]] = [(0, capture(start.world), {})]
    while stack:
        played, state, outcomes = stack.pop()
        node_key = (played, key(state))
        if node_key in seen:
            continue
        if len(seen) >= limit:
            raise RuntimeError(f"more than {limit} worlds")
        seen[node_key] = (state, outcomes)
        if played < len(universe.prefix):
            options = [universe.prefix[played]]
        else:
            probe = Simulator(model, replace(scenario, events=()))
            restore(probe.world, state)
            options = instances(universe, probe.world, 1)
        for event in options:
            sim = Simulator(model, replace(scenario, events=()), explain=False)
            restore(sim.world, state)
            try:
                sim.play_event(Event(1, event.kind, event.params, event.locs, event.loc))
            except TrackproofError as err:
                if err.code == "E404":
                    continue
                raise
            stack.append((played + (1 if played < len(universe.prefix) else 0), capture(sim.world),
                          sim.outcomes_now()))
    return seen
