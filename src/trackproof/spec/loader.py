"""Load the spec files under model/ into one frozen `ir.Model`, refusing anything unsound.

Order: sources and rulebook (generated from RULES.md), vocabulary, lifecycle states, definitions (type-checked in
dependency order, recursion refused), machines (inheritance resolved, side-dependent destinations expanded), then the
structural checks of structure.py. Each file's shape is checked first (schema.py: the types of its values, its keys),
so what follows reads values without testing their types. Every refusal is a `TrackproofError` with the file, line
and column.
"""

from __future__ import annotations

import ast
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import Loc, TrackproofError
from . import expr as X
from .binders import bound_model
from .ir import (
    Action,
    Constraint,
    Definition,
    DocumentedRule,
    Effect,
    Machine,
    Model,
    Provenance,
    Reading,
    Source,
    State,
    Transition,
    Vocabulary,
)
from .readings import load_readings, with_readings
from .shape import load_document
from .shipped import default_model_dir
from .structure import check_machines
from .vocab import check_setting_value, load_vocabulary
from .yamlsrc import Mapping, as_list, check_keys, expect_mapping, expect_sequence

LEVEL = {"H": 3, "M": 2, "L": 1}
MAX_EXTENDS = 16  # machines extending one another (the shipped ones: 1)
Reach = dict[str, int]  # each definition's reach (expr.reach): how deep its evaluation goes
_PROV_KEYS = {"implements", "sources", "confidence", "reason"}


def _provenance(spec: Mapping, what: str, sources: dict[str, Source],
                rulebook: dict[str, DocumentedRule]) -> Provenance:
    if not spec.get("sources"):
        raise TrackproofError("E301", f"{what} has no source: every rule must cite a document key (sources: [D1])",
                              spec.locs.get("sources", spec.loc))
    for key in ("implements", "confidence", "reason"):
        if key not in spec:
            raise TrackproofError("E105", f"{what} needs the key '{key}'", spec.loc)
    keys, key_locs = as_list(spec["sources"], spec.locs["sources"])
    for key, loc in zip(keys, key_locs, strict=True):
        if key not in sources:
            raise TrackproofError("E302", f"unknown source key '{key}'", loc, "keys are listed in model/sources.yaml")
    nums, num_locs = as_list(spec["implements"], spec.locs["implements"])
    if not nums:
        raise TrackproofError("E302", f"{what} implements no RULES.md rule", spec.locs["implements"])
    for num, loc in zip(nums, num_locs, strict=True):
        if num not in rulebook:
            raise TrackproofError("E302", f"unknown rule number '{num}'", loc,
                                  "rules are listed in model/rulebook.yaml")
    conf = spec["confidence"]
    if conf not in LEVEL:
        raise TrackproofError("E306", "confidence is H, M or L", spec.locs["confidence"])
    ceiling = min(max(LEVEL[c] for c in rulebook[n].levels or "L") for n in nums)
    if LEVEL[conf] > ceiling:
        weakest = [n for n in nums if max(LEVEL[c] for c in rulebook[n].levels or "L") == ceiling]
        raise TrackproofError("E306", f"{what} claims confidence {conf}, but {', '.join(weakest)} "
                              f"is documented only at {'HML'[3 - ceiling]}", spec.locs["confidence"])
    return Provenance(tuple(nums), tuple(keys), conf, " ".join(str(spec["reason"]).split()))


def _catalogues(root: Path) -> tuple[dict[str, Source], dict[str, DocumentedRule]]:
    doc = load_document(root / "sources.yaml", "sources")
    sources = {k: Source(k, v["title"], v["url"], bool(v.get("proposed", False))) for k, v in doc["sources"].items()}
    doc = load_document(root / "rulebook.yaml", "rulebook")
    rulebook = {k: DocumentedRule(k, v["text"], tuple(v["sources"]), v["confidence"], bool(v.get("proposed", False)))
                for k, v in doc["rules"].items()}
    return sources, rulebook


def _expr(spec: Mapping, key: str, vocab: Vocabulary, sigs: dict[str, tuple[tuple[str, ...], str]],
          names: dict[str, str], reach: Reach) -> X.Expr:
    return X.parse(spec[key], vocab, sigs, names, spec.origins.get(key), spec.locs[key], reach)


def _states(path: Path, vocab: Vocabulary) -> tuple[dict[str, State], str, dict[str, dict[str, str]]]:
    doc = load_document(path, "lifecycle")
    check_keys(doc, {"initial", "states", "side_destinations", "records"}, {"initial", "states"}, "the lifecycle")
    raw = expect_mapping(doc["states"], doc.locs["states"], "states")
    states: dict[str, State] = {}
    for name, spec in raw.items():
        spec = expect_mapping(spec, raw.locs[name], f"state '{name}'")
        check_keys(spec, {"side", "stored", "status", "direction", "final", "says"}, {"side", "stored", "says"},
                   f"state '{name}'")
        side = spec["side"]
        if side not in ("outgoing", "incoming", "both"):
            raise TrackproofError("E207", "a state's side is outgoing, incoming or both", spec.locs["side"])
        states[name] = State(name, side, bool(spec["stored"]), spec.get("status"), spec.get("direction"),
                             bool(spec.get("final", False)), " ".join(str(spec["says"]).split()), raw.locs[name])
    initial = doc["initial"]
    if initial not in states:
        raise TrackproofError("E303", f"unknown initial state '{initial}'", doc.locs["initial"])
    dests: dict[str, dict[str, str]] = {}
    raw_dests = doc.get("side_destinations", Mapping())
    for name, per_side in raw_dests.items():
        per_side = expect_mapping(per_side, raw_dests.locs[name], f"side destination '{name}'")
        for side, state in per_side.items():
            if state not in states or side not in vocab.enums["side"]:
                raise TrackproofError("E303", f"unknown side or state in '{name}'", per_side.locs[side])
        dests[name] = {str(k): str(v) for k, v in per_side.items()}
    return states, str(initial), dests


def _dependencies(source: Any, known: set[str]) -> set[str]:
    if not isinstance(source, str) or len(source) > X.MAX_LENGTH:  # refused when the definition is parsed
        return set()
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, MemoryError, RecursionError):
        return set()
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id in known}


def _definitions(path: Path, vocab: Vocabulary, sources: dict[str, Source],
                 rulebook: dict[str, DocumentedRule]) -> tuple[dict[str, Definition], Reach]:
    doc = load_document(path, "definitions")
    raw = expect_mapping(doc.get("definitions"), doc.locs.get("definitions", doc.loc), "definitions")
    specs = {name: expect_mapping(spec, raw.locs[name], f"definition '{name}'") for name, spec in raw.items()}
    deps = {name: _dependencies(spec.get("expr"), set(specs)) for name, spec in specs.items()}
    done: dict[str, Definition] = {}
    sigs: dict[str, tuple[tuple[str, ...], str]] = {}
    reach: Reach = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name):], name))
            raise TrackproofError("E308", f"recursive definition: {cycle}", raw.key_locs[name])
        if len(trail) > X.MAX_REACH:  # each call goes at least one level deeper: a longer chain is too deep anyway
            raise TrackproofError("E208", f"definitions calling one another more than {X.MAX_REACH} deep",
                                  raw.key_locs[name])
        for dep in sorted(deps[name]):
            visit(dep, (*trail, name))
        spec = specs[name]
        check_keys(spec, {"params", "expr", *_PROV_KEYS}, {"params", "expr"}, f"definition '{name}'")
        params_raw = expect_mapping(spec["params"] or Mapping(), spec.locs["params"], "params")
        params = tuple((str(p), str(t)) for p, t in params_raw.items())
        for p, t in params:
            if t not in X.REF_TYPES and t not in vocab.enums and t != X.BOOL:
                raise TrackproofError("E204", f"parameter '{p}' has unknown type '{t}'", params_raw.locs[p])
        names = {**vocab.scope, **dict(params)}
        body = _expr(spec, "expr", vocab, sigs, names, reach)
        prov = _provenance(spec, f"definition '{name}'", sources, rulebook)
        done[name] = Definition(name, params, body, body.type, prov, raw.key_locs[name])
        sigs[name] = (tuple(t for _, t in params), body.type)
        reach[name] = X.reach(body, reach)

    for name in specs:
        visit(name, ())
    return {name: done[name] for name in specs}, reach


_TRANSITION_KEYS = {"id", "trigger", "from", "to", "guard", "effects", "priority", "says", *_PROV_KEYS}


def _effects(spec: Mapping, vocab: Vocabulary, sigs: dict[str, tuple[tuple[str, ...], str]],
             names: dict[str, str], reach: Reach) -> tuple[tuple[Effect, ...], tuple[Action, ...]]:
    if "effects" not in spec:
        return (), ()
    eff = expect_mapping(spec["effects"], spec.locs["effects"], "effects")
    check_keys(eff, {"set", "do"}, set(), "effects")
    sets = _assignments(eff.get("set") or Mapping(), vocab, sigs, names, reach)
    return sets, _actions(eff, vocab, sigs, names, reach)


def _assignments(assigns: Mapping, vocab: Vocabulary, sigs: dict[str, tuple[tuple[str, ...], str]],
                 names: dict[str, str], reach: Reach) -> tuple[Effect, ...]:
    """Fields set, each to an expression of its type (an effect's `set`, the lifecycle's `records`)."""
    sets: list[Effect] = []
    fields = vocab.groups["email"]
    for target, _ in assigns.items():
        attr = fields.get(target)
        if attr is None or not attr.field:
            raise TrackproofError("E203", f"'{target}' is not a field an effect may set", assigns.key_locs[target],
                                  "fields: " + ", ".join(n for n, a in fields.items() if a.field))
        value = _expr(assigns, target, vocab, sigs, names, reach)
        if X._unify(value.type, attr.type) != attr.type:
            raise TrackproofError("E204", f"'{target}' is a {attr.type}, but '{value.text}' is a {value.type}",
                                  assigns.locs[target])
        sets.append(Effect(target, value, assigns.locs[target]))
    return tuple(sets)


def _actions(eff: Mapping, vocab: Vocabulary, sigs: dict[str, tuple[tuple[str, ...], str]],
             names: dict[str, str], reach: Reach) -> tuple[Action, ...]:
    actions: list[Action] = []
    if "do" in eff:
        items = expect_sequence(eff["do"], eff.locs["do"], "do")
        for item, loc in zip(items, items.locs, strict=True):
            when = None
            if isinstance(item, Mapping):
                check_keys(item, {"action", "when"}, {"action"}, "an action")
                name = item["action"]
                if "when" in item:
                    when = _expr(item, "when", vocab, sigs, names, reach)
                    if when.type != X.BOOL:
                        raise TrackproofError("E204", "'when' must be true or false", item.locs["when"])
            else:
                name = item
            if name not in vocab.actions:
                raise TrackproofError("E203", f"unknown action '{name}'", loc, "actions: " + ", ".join(vocab.actions))
            actions.append(Action(str(name), when, loc))
    return tuple(actions)


def _records(path: Path, vocab: Vocabulary, sigs: dict[str, tuple[tuple[str, ...], str]],
             reach: Reach) -> dict[str, tuple[Effect, ...]]:
    """The lifecycle's `records`: fields set when a side becomes an email activity, or Undeliverable."""
    doc = load_document(path, "lifecycle")
    raw = expect_mapping(doc.get("records", Mapping()), doc.locs.get("records", doc.loc), "records")
    check_keys(raw, {"created", "undeliverable"}, set(), "records")
    names = {k: v for k, v in vocab.scope.items() if k not in ("actor", "event")}
    return {str(when): _assignments(expect_mapping(raw[when], raw.locs[when], str(when)), vocab, sigs, names, reach)
            for when in raw}


def _machine(path: Path, vocab: Vocabulary, defs: dict[str, Definition], reach: Reach, states: dict[str, State],
             dests: dict[str, dict[str, str]], sources: dict[str, Source], rulebook: dict[str, DocumentedRule],
             counter: list[int]) -> tuple[Mapping, list[Transition]]:
    doc = load_document(path, "machine")
    check_keys(doc, {"machine", "title", "extends", "mode", "states", "transitions"},
               {"machine", "states", "transitions"}, "a machine")
    sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in defs.items()}
    out: list[Transition] = []
    for raw, loc in zip(expect_sequence(doc["transitions"], doc.locs["transitions"], "transitions"),
                        doc["transitions"].locs, strict=True):
        spec = expect_mapping(raw, loc, "a transition")
        check_keys(spec, _TRANSITION_KEYS, {"id", "trigger", "from", "says"}, "a transition")
        rid = str(spec["id"])
        trigger = spec["trigger"]
        if trigger not in vocab.triggers:
            raise TrackproofError("E303", f"unknown trigger '{trigger}'", spec.locs["trigger"],
                                  "triggers: " + ", ".join(vocab.triggers))
        guard = _expr(spec, "guard", vocab, sigs, vocab.scope, reach) if "guard" in spec else None
        if guard is not None and guard.type != X.BOOL:
            raise TrackproofError("E204", f"a guard must be true or false, '{guard.text}' is a {guard.type}",
                                  spec.locs["guard"])
        effects, actions = _effects(spec, vocab, sigs, vocab.scope, reach)
        prov = _provenance(spec, f"rule '{rid}'", sources, rulebook)
        priority = spec.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TrackproofError("E104", "priority must be a whole number", spec.locs["priority"])
        srcs, src_locs = as_list(spec["from"], spec.locs["from"])
        dest_name = spec.get("to")
        for src, src_loc in zip(srcs, src_locs, strict=True):
            if src not in states:
                raise TrackproofError("E303", f"unknown state '{src}'", src_loc)
            targets: list[tuple[str | None, str | None]]
            if dest_name is None:
                targets = [(None, None)]
            elif dest_name in dests:
                side = states[src].side
                sides = [side] if side != "both" else sorted(dests[dest_name])
                targets = [(dests[dest_name][s], s if side == "both" else None) for s in sides if s in dests[dest_name]]
            elif dest_name in states:
                targets = [(str(dest_name), None)]
            else:
                raise TrackproofError("E303", f"unknown state '{dest_name}'", spec.locs["to"])
            for dest, dest_side in targets:
                counter[0] += 1
                out.append(Transition(rid, str(doc["machine"]), str(trigger), str(src), dest, guard, effects, actions,
                                      priority, counter[0], dest_side, " ".join(str(spec["says"]).split()), prov, loc))
    return doc, out


def load_model(root: str | os.PathLike[str] | None = None) -> Model:
    """Load and check every spec file under `root` (default: the model/ that ships with trackproof)."""
    root = Path(root if root is not None else default_model_dir())
    sources, rulebook = _catalogues(root)
    vdoc = load_document(root / "vocabulary.yaml", "vocabulary")
    vocab = load_vocabulary(vdoc, sources)
    readings: dict[str, Reading] = {}
    if (root / "readings.yaml").exists():
        readings = load_readings(load_document(root / "readings.yaml", "readings"), sources, rulebook)
    vocab = with_readings(vocab, readings)
    defs, reach = _definitions(root / "definitions.yaml", vocab, sources, rulebook)
    constraints = []
    sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in defs.items()}
    if "constraints" in vdoc:
        items = expect_sequence(vdoc["constraints"], vdoc.locs["constraints"], "constraints")
        for raw, loc in zip(items, items.locs, strict=True):
            spec = expect_mapping(raw, loc, "a constraint")
            check_keys(spec, {"id", "expr", "rules", "says"}, {"id", "expr", "rules", "says"}, "a constraint")
            body = _expr(spec, "expr", vocab, sigs, {**vocab.scope, "p": X.PARTY}, reach)
            constraints.append(Constraint(str(spec["id"]), body, tuple(spec["rules"]), str(spec["says"]), loc))
    vocab = replace(vocab, constraints=tuple(constraints))
    states, initial, dests = _states(root / "lifecycle.yaml", vocab)
    counter = [0]
    docs: dict[str, Mapping] = {}
    own: dict[str, list[Transition]] = {}
    for path in sorted((root / "machines").glob("*.yaml")):
        doc, transitions = _machine(path, vocab, defs, reach, states, dests, sources, rulebook, counter)
        name = str(doc["machine"])
        if name in docs:
            raise TrackproofError("E307", f"machine '{name}' is defined twice", doc.locs["machine"])
        docs[name], own[name] = doc, transitions
    if not docs:
        raise TrackproofError("E304", "the model has no machine (machines/*.yaml): no email could ever move",
                              Loc(str(root / "machines"), 1, 1), "give each synchronization mode a machine")
    machines = _resolve_machines(docs, own, states, vocab)
    union: dict[tuple[str, int], Transition] = {}
    for m in machines.values():
        for t in m.transitions:
            union[(t.id, t.order)] = t
    ordered = tuple(sorted(union.values(), key=lambda t: (-t.priority, t.order)))
    model = Model(str(root), vocab, defs, states, initial, machines, ordered, sources, rulebook, readings=readings,
                  records=_records(root / "lifecycle.yaml", vocab, sigs, reach))
    bound_model(model)
    return replace(model, notes=tuple(check_machines(model)))


def _mode(doc: Mapping, vocab: Vocabulary) -> dict[tuple[str, str], Any]:
    """A machine's `mode`: the settings that put a user's mailbox in this mode (`trackproof diff` takes a mode's
    name), as (owner, setting) -> value where the owner is "org" or "mailbox"."""
    if "mode" not in doc:
        return {}
    raw = expect_mapping(doc["mode"], doc.locs["mode"], "mode")
    check_keys(raw, {"org", "mailbox"}, set(), "mode")
    out: dict[tuple[str, str], Any] = {}
    for owner in ("org", "mailbox"):
        if owner not in raw:
            continue
        settings = expect_mapping(raw[owner], raw.locs[owner], f"mode.{owner}")
        for name, value in settings.items():
            attr = vocab.groups[owner].get(str(name))
            if attr is None:
                raise TrackproofError("E402", f"unknown {owner} setting '{name}'", settings.key_locs[name])
            check_setting_value(attr, value, vocab.enums, settings.locs[name])
            out[(owner, str(name))] = value
    return out


def _resolve_machines(docs: dict[str, Mapping], own: dict[str, list[Transition]],
                      states: dict[str, State], vocab: Vocabulary) -> dict[str, Machine]:
    machines: dict[str, Machine] = {}
    every: dict[str, list[Transition]] = {}
    seen_ids: dict[str, Transition] = {}
    for ts in own.values():
        for t in ts:
            first = seen_ids.setdefault(t.id, t)
            if first.loc != t.loc:
                raise TrackproofError("E307", f"rule id '{t.id}' is used twice (first at {first.loc})", t.loc)

    def build(name: str, trail: tuple[str, ...]) -> Machine:
        if name in machines:
            return machines[name]
        doc = docs[name]
        if name in trail:
            raise TrackproofError("E304", f"machine '{name}' extends itself", doc.locs["extends"])
        if len(trail) > MAX_EXTENDS:
            raise TrackproofError("E304", f"machines extending one another more than {MAX_EXTENDS} deep",
                                  doc.locs["extends"])
        own_states = tuple(str(s) for s in expect_sequence(doc["states"], doc.locs["states"], "states"))
        for s, loc in zip(own_states, doc["states"].locs, strict=True):
            if s not in states:
                raise TrackproofError("E303", f"unknown state '{s}'", loc)
        inherited: list[Transition] = []
        parent = doc.get("extends")
        if parent is not None:
            if parent not in docs:
                raise TrackproofError("E303", f"unknown machine '{parent}'", doc.locs["extends"])
            build(str(parent), (*trail, name))
            inherited = every[str(parent)]
        # A machine's rules may name states that only the machines extending it list (the core rules of `none`
        # also cover `sent` and `received`): such rules are inherited but are not part of this machine's graph.
        every[name] = inherited + own[name]
        fits = [t for t in every[name] if t.source in own_states and (t.dest is None or t.dest in own_states)]
        machine = Machine(name, str(doc.get("title", name)), str(parent) if parent else None, own_states,
                          tuple(fits), doc.loc, _mode(doc, vocab))
        machines[name] = machine
        return machine

    for name in sorted(docs, key=lambda n: (docs[n].get("extends") is not None, n)):
        build(name, ())
    return machines
