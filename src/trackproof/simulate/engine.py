"""Play a scenario through the model: one model object per activity side, moved by the `transitions` machine the
model compiles to (machine.py).

What this module decides is only the order of things (which sides a trigger reaches, in which order) and how mail
moves (copies arriving in Inboxes). Whether anything is sent, tracked, correlated or linked is decided by the
transitions of model/ alone. It never imports z3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import TrackproofError
from ..spec.expr import BOOL, PARTY, Expr
from ..spec.ir import Model
from ..spec.scenario import Event, Scenario
from .events import play
from .hooks import Hooks
from .machine import Engine, engine
from .mail import SIDES, Copy, Message, Side, Step
from .outcomes import Outcome, outcome_of
from .world import World

__all__ = ["Engine", "Simulator", "engine", "simulate"]


class Simulator:
    """One run of one scenario. Runs are sequential: the shared engine acts on the simulator that runs now."""

    def __init__(self, model: Model, scenario: Scenario, hooks: Hooks | None = None, explain: bool = True,
                 checked: bool = False) -> None:
        self.model = model
        self.hooks = hooks
        # Whether a rule that did not fire says why in words (the outcome's reason); the prover's runs that are
        # never shown skip the words, not the rule.
        self.explain = explain
        self.scenario = scenario
        self.world = World(model, scenario, hooks)
        self.engine = engine(model)
        self.compiler = self.engine.compiler
        self.machine = self.engine.machine
        self.event: Event | None = None
        self._new_attempt()
        self.version = 0  # bumped by every trigger: what the world looked like may have changed
        # `checked`: the caller knows the settings meet the vocabulary's constraints (the prover's own runs: Z3
        # chose them within the constraints, or they are the defaults of a premise checked before)
        if not checked:
            self.check_constraints(None)

    def _new_attempt(self) -> None:
        """What one try of a trigger notes (machine.py's callbacks fill it in): the rules that did not fire and why,
        the rule that fired, the definitions and uncertain defaults its guard and effects read."""
        self._attempt: list[tuple[str, str]] = []
        self._fired: Step | None = None
        self._effect_used: tuple[str, ...] = ()
        self._effect_assumed: dict[str, str] = {}
        self._attempt_assumed: dict[str, str] = {}
        self._attempt_used: dict[str, None] = {}

    def _env(self, side: Side, kwargs: dict[str, Any]) -> dict[str, Any]:
        msg = side.message
        return {"org": None, "reading": None, "event": None, "__event": kwargs.get("params", {}), "__used": {},
                "__assumed": {},
                "__world": self.world,
                "email": (msg.id, side.side),
                "sender": msg.received_from if side.side == "incoming" else msg.sender,
                "parent": (msg.parent, None) if msg.parent else None,
                "actor": kwargs.get("actor")}

    def decide(self, definition: str, party: str, held: tuple[str, str] | None = None) -> bool:
        """Evaluate one of the model's definitions of one party, for the engine's own bookkeeping (recorded for
        the prover like any guard; `held`: the fact it decides, which nothing depends on until it is read)."""
        found = self.engine.decisions.get(definition)
        if found is None:
            d = self.model.definitions[definition]
            loc = d.loc
            arg = Expr("var", PARTY, loc, "p", "p")
            found = self.engine.decisions[definition] = Expr("call", BOOL, loc, f"{definition}(p)", definition, (arg,))
        env: dict[str, Any] = {"org": None, "reading": None, "event": None, "email": None, "sender": None,
                               "parent": None,
                               "actor": None, "p": party, "__event": {}, "__used": None, "__assumed": None,
                               "__world": self.world}
        value = bool(self.compiler.compile(found)(env))
        if self.hooks is not None:
            self.hooks.record(found, env, value, "guard", held)
        return value

    def _index(self) -> int:
        return self.event.number if self.event else 0

    def observe(self, hooks: Hooks | None) -> None:
        """Let `hooks` watch the run (the prover), or stop (None)."""
        self.hooks = hooks
        self.world.hooks = hooks

    def fire(self, side: Side, trigger: str, actor: str | None = None, params: dict[str, Any] | None = None) -> bool:
        """Send `trigger` to `side`: the first rule (by priority) whose guard holds fires. A trigger that found no
        rule at an earlier try, with nothing it read changed since, is not tried again: no rule can fire now either,
        and the "why not" of the first try stands (so a sync costs the sides where something happened)."""
        event = self.machine.events.get(trigger)
        world = self.world
        if event is None or side.state not in event.transitions:  # no rule reacts to it (here)
            if not params:
                world.sleep(side, (trigger, actor), frozenset({("msg", side.message.id)}))
            return False
        key = (trigger, actor, repr(params) if params else "")
        tried = side.misses.get(key)
        if tried is not None and tried[0] == side.state and world.unchanged_since(tried[1], tried[2]):
            return False
        self.version += 1
        self._new_attempt()
        outer, world.reading = world.reading, {("msg", side.message.id)}
        clock = world.clock
        try:
            self.engine.sim = self
            fired = bool(event.trigger(side, actor=actor, params=params or {}))
        finally:
            reads, world.reading = world.reading, outer
            if outer is not None:
                outer.update(reads)
        if fired:
            side.misses.pop(key, None)
            world.touch(("msg", side.message.id))
        elif self._attempt:
            side.misses[key] = (side.state, clock, frozenset(reads))
            if not params:
                world.sleep(side, (trigger, actor), side.misses[key][2])
            side.steps.append(Step(self._index(), trigger, None, side.state, side.state, "",
                                   used=tuple(self._attempt_used), missed=tuple(self._attempt),
                                   assumed=tuple(self._attempt_assumed.items())))
        return fired

    def acts(self, action: str, side: Side) -> bool:
        """Whether an action would change anything now: records are created, and unresolved addresses dropped,
        only where an address matches no record (reading which kinds the participants have)."""
        msg, world = side.message, self.world
        if action == "drop_unresolved":  # decided address by address, by each address's kind (below)
            return any(world.may_be_unresolved(pid) for pid in (*msg.to, *msg.cc, *msg.bcc))
        if action != "create_records":
            return True
        parties = (msg.sender, *world.recipients(msg))
        if not any(world.may_be_unresolved(pid) for pid in parties):
            return False
        return any(world.unresolved(pid) for pid in (msg.sender, *world.recipients(msg, observed=True)))

    # --- mail mechanics ----------------------------------------------------------------------------------------
    def deliver(self, msg: Message) -> None:
        for pid, copy in msg.copies.items():
            copy.folder = "sent_items" if copy.role == "sender" else "inbox"
            for only_from, folder, record in self.world.inbox_rules.get(pid, ()) if copy.role != "sender" else ():
                if only_from is None or only_from == msg.author:  # an Inbox rule moves it on arrival (R126)
                    copy.folder, copy.folder_record = folder, record
                    break
        msg.shared["delivered"] = True
        self.world.touch(("msg", msg.id))
        if "incoming" in msg.sides:
            self.fire(msg.sides["incoming"], "deliver")

    def create_records(self, side: Side) -> None:
        msg = side.message
        for pid in (msg.sender, *self.world.recipients(msg, observed=True)):
            party = self.world.parties[pid]
            if self.world.unresolved(pid):
                party.kind = "contact"  # the action's documented effect (vocabulary.yaml, actions: create_records)
                self.world.overwritten.add((pid, "kind"))  # the prover reads the new kind, not the free setting
                self.world.touch(("party", pid))
                side.steps.append(Step(self._index(), "create_records", None, side.state, side.state,
                                       f"The unknown address {party.address} became a contact ({pid}).", ()))
        msg.sender = self.world.resolve_sender(msg.author, self.world.tracker(msg))
        msg.received_from = msg.sender if msg.on_behalf_of is None else msg.received_from
        self.world.touch(("msg", msg.id))

    def drop_unresolved(self, msg: Message) -> None:
        """Remove the addresses that match no record (R76). Which are removed follows from the kinds, so it is not
        told to the hooks here: the prover's terms over the recipients carry it (World.recipient_candidates), and
        the mail mechanics that read the recipients themselves tell it (World.recipients(observed=True))."""
        world = self.world
        unresolved = self.model.vocabulary.kind_roles["unresolved"]
        if msg.written is None:
            msg.written = (msg.to, msg.cc)
        for pid in (*msg.to, *msg.cc, *msg.bcc):
            msg.removed[pid] = world.parties[pid].kind in unresolved
            if (pid, "kind") not in world.overwritten:
                msg.by_kind.add(pid)
        msg.to, msg.cc, msg.bcc = (tuple(p for p in ps if not msg.removed[p]) for ps in (msg.to, msg.cc, msg.bcc))
        world.touch(("msg", msg.id))

    def check_constraints(self, event: Event | None) -> None:
        for c in self.model.vocabulary.constraints:
            fn = self.compiler.compile(c.expr)
            for pid, party in self.world.parties.items():
                if not party.is_mailbox:
                    continue
                if not fn({"p": pid, "org": None, "reading": None, "__used": None, "__assumed": None,
                           "__world": self.world}):
                    loc = event.loc if event else self.scenario.participants[pid].loc
                    raise TrackproofError("E403", f"participant '{pid}': {c.says} ({', '.join(c.rules)})", loc)

    # --- events ------------------------------------------------------------------------------------------------
    def run(self, observer: Callable[[Simulator, Event], None] | None = None) -> list[Outcome]:
        """Play every event; `observer` is called after each one (run --watch)."""
        try:
            for event in self.scenario.events:
                self.event = event
                self.version += 1
                play(self, event)
                if observer is not None:
                    observer(self, event)
        finally:
            self.event = None
        return [outcome_of(self.model, self.world, side) for msg in self.world.messages.values() for side in
                (msg.sides[s] for s in SIDES if s in msg.sides)]

    def play_event(self, event: Event) -> None:
        """Play one event (the next of a sequence the prover explores; `run` plays a scenario's)."""
        self.event = event
        self.version += 1
        try:
            play(self, event)
        finally:
            self.event = None

    def outcomes_now(self) -> dict[str, Outcome]:
        """The outcome of every activity side so far."""
        return {side.key: outcome_of(self.model, self.world, side) for msg in self.world.messages.values()
                for side in (msg.sides[s] for s in SIDES if s in msg.sides)}

    def new_side(self, msg: Message, name: str) -> Side:
        # The machine's events are triggered on the side directly (Event.trigger), so the side is not added to the
        # machine as a model: add_model binds a method per trigger and state to each model, which cost more than
        # the run itself, and the shared machine would have to forget every side again after the run.
        side = Side(msg, name)
        self.machine.set_state(self.model.initial, model=side)
        msg.sides[name] = side
        self.world.add_side(side)
        self.world.touch(("msg", msg.id))
        return side

    def broadcast(self, trigger: str, actor: str | None = None) -> None:
        """`trigger` to every side in the order they were made (a sync cycle, a legacy client's pass), leaving alone
        the sides whose last try found no rule and read nothing that changed since (they cannot react): what a
        cycle costs is the sides where something can happen. A side that something changes during the pass is
        tried in it when its turn is still to come, as a plain pass in order would."""
        import heapq

        world = self.world
        key = (trigger, actor)
        queue = sorted(world.awake_sides(key))
        world.woken = []
        try:
            done = -1
            while queue:
                position = heapq.heappop(queue)
                if position <= done:
                    continue
                done = position
                self.fire(world.sides[position], trigger, actor=actor)
                for woken in world.woken:
                    if woken > done:
                        heapq.heappush(queue, woken)
                world.woken.clear()
        finally:
            world.woken = None

    def add_copy(self, msg: Message, pid: str, role: str) -> None:
        if pid not in msg.copies and self.world.parties[pid].is_mailbox:
            self.world.add_copy(msg, pid, Copy(role))


def simulate(model: Model, scenario: Scenario) -> list[Outcome]:
    """Play `scenario` and return the outcome of every activity side, in the order the emails were created."""
    return Simulator(model, scenario).run()
