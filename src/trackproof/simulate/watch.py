"""`trackproof run --watch EXPR`: evaluate an expression over the emails' outcomes after every event of a scenario,
to see when (and why) something changes. The expression language is that of claim conclusions (docs/claims.md)."""

from __future__ import annotations

from typing import Any

from ..errors import Loc
from ..spec import expr as X
from ..spec.binders import bound_binders, of_model
from ..spec.claims import outcome_vocabulary
from ..spec.ir import OUTCOME, Model
from ..spec.scenario import Event, Scenario, email_ids
from ..spec.yamlsrc import Origin
from .engine import Simulator
from .outcomes import outcome_env


def parse_watch(model: Model, scenario: Scenario, source: str) -> X.Expr:
    ids = email_ids(scenario.events)
    names = {"org": "org", **{p: X.PARTY for p in scenario.participants}, **{i: OUTCOME for i in ids}}
    sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in model.definitions.items()}
    where = Loc("<--watch>", 1, 1)
    parsed = X.parse(source, outcome_vocabulary(model.vocabulary, tuple(model.states)), sigs, names,
                     Origin("<--watch>", [(1, 1)], [len(source)]), where)
    bound_binders(parsed, of_model(model))
    return parsed


def _shown(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


def watch(model: Model, scenario: Scenario, expression: X.Expr) -> list[tuple[int, Any]]:
    """The expression's value after each event."""
    values: list[tuple[int, Any]] = []

    def observe(sim: Simulator, event: Event) -> None:
        outcomes = sim.outcomes_now()
        env = outcome_env(outcomes, sim.world, scenario.participants, email_ids(scenario.events))
        values.append((event.number, _shown(sim.compiler.compile(expression)(env))))

    Simulator(model, scenario).run(observe)
    return values
