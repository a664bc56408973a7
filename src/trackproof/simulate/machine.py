"""What one model compiles to, built once and shared by every run: one `transitions` Machine generated from the IR
(a state per lifecycle state, a transition per rule), with guards, effects and actions compiled from the model's
expressions, whose callbacks act on the simulator running now (engine.py's Simulator, as `Running`).

It never imports z3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from transitions import EventData, Machine

from ..spec.expr import Expr, conjuncts
from ..spec.ir import Model, Transition
from .evaluate import Compiler
from .explain import Explainer
from .hooks import Hooks
from .mail import Message, Side, Step
from .records import entered, record_fields, store, tell
from .world import World


class Running(Protocol):
    """What the callbacks need of the simulator running now (engine.Simulator): its world and hooks, the notes of
    the trigger being tried, and the mail mechanics an action asks for."""

    world: World
    hooks: Hooks | None
    explain: bool
    _attempt: list[tuple[str, str]]
    _attempt_assumed: dict[str, str]
    _attempt_used: dict[str, None]
    _effect_used: tuple[str, ...]
    _effect_assumed: dict[str, str]
    _fired: Step | None

    def _env(self, side: Side, kwargs: dict[str, Any]) -> dict[str, Any]: ...
    def _index(self) -> int: ...
    def acts(self, action: str, side: Side) -> bool: ...
    def deliver(self, msg: Message) -> None: ...
    def create_records(self, side: Side) -> None: ...
    def drop_unresolved(self, msg: Message) -> None: ...


class Engine:
    """What one model compiles to, built once and shared by every run: the expression closures and one
    `transitions` Machine whose callbacks act on the simulator currently running (`sim`)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.compiler = Compiler(model.definitions)
        self.explainer = Explainer(model, self.compiler)
        self.sim: Running | None = None
        self.decisions: dict[str, Expr] = {}  # definitions the engine evaluates itself, as call expressions
        email = model.vocabulary.groups["email"]
        self.shared = frozenset(n for n, a in email.items() if a.shared)
        self.emails = frozenset(n for n, a in email.items() if a.field and a.type == "email")
        self.records = {when: [(e, self.compiler.compile(e.value)) for e in effects]
                        for when, effects in model.records.items()}
        self.machine = Machine(model=[], states=list(model.states), initial=model.initial, auto_transitions=False,
                               send_event=True, ignore_invalid_triggers=True)
        for t in model.transitions:
            self.machine.add_transition(t.trigger, t.source, t.dest, conditions=[self._condition(t)],
                                        before=[self._effects(t)], after=[self._actions(t)])

    def current(self) -> Running:
        assert self.sim is not None
        return self.sim

    def _condition(self, t: Transition) -> Callable[[EventData], bool]:
        parts = [(c, self.compiler.compile(c)) for c in conjuncts(t.guard)] if t.guard else []

        def condition(ev: EventData) -> bool:
            sim, side = self.current(), _side(ev)
            if t.side is not None and side.side != t.side:
                return False
            env = sim._env(side, ev.kwargs)
            for part, fn in parts:
                if not fn(env):
                    # The prover needs only whether the rule fired (the rule path), not which part stopped it.
                    if sim.hooks is not None and t.guard is not None:
                        sim.hooks.record(t.guard, env, False, "guard")
                    why = ""
                    if sim.explain:
                        quiet = {**env, "__used": None, "__assumed": None}
                        why = f"{part.text}: {self.explainer.why_false(part, quiet)}"
                    sim._attempt.append((t.id, why))
                    sim._attempt_assumed.update(env["__assumed"])
                    sim._attempt_used.update(env["__used"])
                    return False
            if sim.hooks is not None and t.guard is not None:
                sim.hooks.record(t.guard, env, True, "guard")
            sim._fired = Step(sim._index(), t.trigger, t.id, t.source, t.dest or t.source, "",
                              tuple(env["__used"]), assumed=tuple(env["__assumed"].items()))
            return True

        return condition

    def _effects(self, t: Transition) -> Callable[[EventData], None]:
        sets = [(e.target, self.compiler.compile(e.value)) for e in t.effects]

        def apply(ev: EventData) -> None:
            sim, side = self.current(), _side(ev)
            env = sim._env(side, ev.kwargs)
            values = {target: fn(env) for target, fn in sets}
            if sim.hooks is not None:
                parties = tuple(sim.world.parties)
                for effect in t.effects:  # an effect's value matters once something reads the field
                    tell(sim.hooks, effect, env, values[effect.target], side.message.id, parties)
            sim._effect_used = tuple(env["__used"])
            sim._effect_assumed = env["__assumed"]  # uncertain defaults the values rest on, as a guard's do
            for target, value in values.items():
                store(side, target, value, self.shared, self.emails)
            sim.world.touch(("msg", side.message.id))

        return apply

    def _actions(self, t: Transition) -> Callable[[EventData], None]:
        acts = [(a.name, self.compiler.compile(a.when) if a.when else None) for a in t.actions]

        def run(ev: EventData) -> None:
            sim, side = self.current(), _side(ev)
            fired = sim._fired
            assert fired is not None
            actor = ev.kwargs.get("actor")
            names = {"sender": side.message.sender, "actor": actor, "accepted_by": side.fields.get("accepted_by"),
                     "tracked_by": side.fields.get("tracked_by"),
                     "regarding": side.fields.get("regarding")}
            sentence = t.says.format_map({k: v if v is not None else "nobody" for k, v in names.items()})
            states = self.model.states
            records = entered(states[fired.source].stored, side.state, states[side.state].stored, fired.source)
            assumed = dict(fired.assumed)
            for name, level in sim._effect_assumed.items():
                assumed.setdefault(name, level)
            side.steps.append(Step(fired.event, fired.trigger, fired.rule, fired.source, side.state, sentence,
                                   fired.used, sim._effect_used, assumed=tuple(assumed.items())))
            side.was_stored = side.was_stored or states[side.state].stored
            for (name, when), action in zip(acts, t.actions, strict=True):
                if not sim.acts(name, side):
                    continue  # nothing to do: whether it would have acted changes nothing
                if when is not None:
                    env = sim._env(side, ev.kwargs)
                    holds = bool(when(env))
                    if sim.hooks is not None and action.when is not None:
                        sim.hooks.record(action.when, env, holds, "action")
                    if not holds:
                        continue
                if name == "deliver":
                    sim.deliver(side.message)
                elif name == "create_records":
                    sim.create_records(side)
                elif name == "drop_unresolved":
                    sim.drop_unresolved(side.message)
            if records is not None:
                record_fields(sim.world, side, self.records.get(records, []), sim._env(side, ev.kwargs),
                              self.shared, self.emails)

        return run


_ENGINES: dict[int, tuple[Model, Engine]] = {}


def engine(model: Model) -> Engine:
    """The engine of `model`, built on first use."""
    found = _ENGINES.get(id(model))
    if found is None or found[0] is not model:
        found = (model, Engine(model))
        _ENGINES[id(model)] = found
    return found[1]


def _side(ev: EventData) -> Side:
    side = ev.model
    assert isinstance(side, Side)
    return side
