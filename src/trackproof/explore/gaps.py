"""`trackproof gaps`: the behaviours a set of claims does not cover, each in one sentence with a scenario.

Behaviour classes (DESIGN.md): settings and events that the same rules decide. Here the events come from the
catalogue of everyday situations (model/situations.yaml), each played under every configuration in the claim file's
scope (its setups: the distinct `scope.fixed` of its claims), and its classes enumerated with Z3 exactly as claims are
proved (prove.enumerate_paths): every rule path, none sampled. A class is *covered* when a claim's premise is the same
situation (the same emails and actions, whoever the participants, sync cycles aside) in the same setup; the others are
*missed*. Classes of one situation with the same outcome are folded into one entry with a count, and entries are ranked
closest to the defaults first, then fewest events.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Loc
from ..spec.claims import Claim, Setting
from ..spec.expr import BOOL, Expr
from ..spec.ir import Model
from ..spec.scenario import SHORT_FORM, Event, Participant, Scenario, parse_event, parse_participants
from ..spec.shipped import default_model_dir
from ..spec.yamlsrc import expect_mapping, expect_sequence, load_file

SETTLE = ("sync", "outlook_start", "outlook_stop")
TRUE = Expr("const", BOOL, Loc("<gaps>", 0, 0), "True", True)


@dataclass(frozen=True)
class Situation:
    id: str
    group: str
    says: str
    scenario: Scenario


@dataclass(frozen=True)
class Missed:
    id: str
    sentence: str
    outcome: dict[str, str]
    settings: dict[str, Any]
    scenario: str
    rules: tuple[str, ...]
    group: str
    classes: int  # rule paths folded into this entry
    changes: int  # settings changed from the defaults in the scenario
    events: float  # emails and actions (the fraction keeps the catalogue's order among equals)


@dataclass(frozen=True)
class Gaps:
    classes: int
    covered: int
    missed: list[Missed]
    rules_touched: tuple[str, ...]
    rules_untouched: tuple[str, ...]
    setups: list[dict[str, Any]]


def load_situations(model: Model, path: str | None = None) -> list[Situation]:
    path = path or os.path.join(default_model_dir(), "situations.yaml")
    doc = expect_mapping(load_file(path), Loc(path, 1, 1), "the situations")
    people = parse_participants(model, expect_mapping(doc["participants"], doc.locs["participants"], "participants"))
    out = []
    items = expect_sequence(doc["situations"], doc.locs["situations"], "situations")
    for raw, loc in zip(items, items.locs, strict=True):
        spec = expect_mapping(raw, loc, "a situation")
        events_raw = expect_sequence(spec["events"], spec.locs["events"], "events")
        events = [parse_event(e, e_loc, i + 1) for i, (e, e_loc) in enumerate(zip(events_raw, events_raw.locs,
                                                                             strict=True))]
        used = (_mentioned(events) & set(people)) | {"X"}
        members = {m for pid in used for m in people[pid].members}
        parts = {pid: p for pid, p in people.items() if pid in used | members}
        out.append(Situation(str(spec["id"]), str(spec["group"]), str(spec["says"]),
                             Scenario(path, str(spec["id"]), str(spec["says"]), {}, parts, tuple(events), {}, {})))
    return out


def _mentioned(events: list[Any]) -> set[str]:
    found: set[str] = set()
    for e in events:
        for key, value in e.params.items():
            if key in ("from", "to", "cc", "bcc", "by", "regarding", "user") or key in SHORT_FORM.values():
                found.update(value if isinstance(value, list) else [str(value)])
    return found - {e.params.get("id") for e in events} - {e.params.get("email") for e in events}


def signature(scenario: Scenario, kinds: dict[str, tuple[str, ...]]) -> tuple[Any, ...]:
    """The situation a premise describes: its emails and actions with participants replaced by their kinds and
    emails by their order, sync cycles and Outlook sessions aside."""
    order: dict[str, int] = {}
    out = []
    for e in scenario.events:
        if e.kind in SETTLE:
            continue
        items = []
        for key, value in sorted(e.params.items()):
            values = value if isinstance(value, list) else [value]
            shown: list[Any] = []
            for v in values:
                if isinstance(v, str) and v in scenario.participants:
                    shown.append(frozenset(kinds.get(v, (scenario.participants[v].kind,))))
                elif key in ("id", "email", "reply_to", "forward_of"):
                    shown.append(order.setdefault(str(v), len(order)))
                else:
                    shown.append(v)
            items.append((key, tuple(shown)))
        out.append((e.kind, tuple(items)))
    return tuple(out)


def _matches(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if len(a) != len(b):
        return False
    for (ka, ia), (kb, ib) in zip(a, b, strict=True):
        if ka != kb or [k for k, _ in ia] != [k for k, _ in ib]:
            return False
        for (_, va), (_, vb) in zip(ia, ib, strict=True):
            if len(va) != len(vb):
                return False
            for x, y in zip(va, vb, strict=True):
                if isinstance(x, frozenset) and isinstance(y, frozenset):
                    if not x & y:
                        return False
                elif x != y:
                    return False
    return True


def setup_of(claim: Claim) -> dict[Setting, Any]:
    """The setup a claim describes: its fixed settings of the organisation and of X, the user the catalogue's
    situations are about (other participants' settings belong to its premise)."""
    return {k: v for k, v in claim.fixed.items() if k[0] in ("org", "X")}


def _setups(claims: list[Claim]) -> list[dict[Setting, Any]]:
    seen: list[dict[Setting, Any]] = []
    for c in claims:
        if setup_of(c) not in seen:
            seen.append(setup_of(c))
    return seen or [{}]


def _situation_claim(model: Model, situation: Situation, fixed: dict[Setting, Any], tag: str) -> Claim:
    parts: dict[str, Participant] = dict(situation.scenario.participants)
    org: dict[str, Any] = {}
    applied: dict[Setting, Any] = {}
    for (owner, name), value in fixed.items():
        if owner == "org":
            org[name] = value
            applied[(owner, name)] = value
        elif owner in parts:
            parts[owner] = replace(parts[owner], settings={**parts[owner].settings, name: value})
            applied[(owner, name)] = value
    # Then time passes: a sync cycle, and X's Outlook runs where X uses the legacy client.
    events = list(situation.scenario.events)
    events.append(Event(len(events) + 1, "sync", {}, {}, events[-1].loc))
    if "outlook" in (fixed.get(("X", "incoming")), fixed.get(("X", "outgoing"))):
        events.append(Event(len(events) + 1, "outlook_start", {"user": "X"}, {}, events[-1].loc))
        events.append(Event(len(events) + 1, "sync", {}, {}, events[-1].loc))  # what Outlook sent is synced
    scenario = replace(situation.scenario, org=org, participants=parts, events=tuple(events))
    # What ranges: the organisation's settings and X's (the user the claims are about); the other participants of a
    # situation are as the catalogue describes them.
    free = tuple(s for s in _candidates(model, scenario) if s[0] in ("org", "X") and s not in applied)
    return Claim(f"{situation.id}{tag}", situation.says, "", scenario.path, Loc(scenario.path, 1, 1), scenario,
                 applied, free, {}, None, TRUE)


def _candidates(model: Model, scenario: Scenario) -> list[Setting]:
    vocab = model.vocabulary
    out: list[Setting] = [("org", n) for n in vocab.groups["org"]]
    x = scenario.participants["X"]
    out += [("X", n) for n in vocab.groups["mailbox"]] if x.kind in ("user", "queue") else []
    out += [("X", n) for n in vocab.groups["party"] if n != "kind"]
    return out


def _outcome_text(key: str, outcome: Any) -> str:
    if not outcome.stored:
        return f"{key} is not stored"
    extra = [f"accepted by {outcome.accepted_by}"] if outcome.accepted_by else []
    extra += [f"Regarding {outcome.regarding}"] if outcome.regarding else []
    return f"{key} is stored ({outcome.status}{', ' + ', '.join(extra) if extra else ''})"


def find_gaps(model: Model, claims: list[Claim], situations: list[Situation] | None = None, jobs: int = 1) -> Gaps:
    """Every behaviour class of every catalogue situation in each setup of the claims; those no claim covers,
    folded and ranked. Each (setup, situation) is explored on its own, on up to `jobs` processes: every answer is
    chosen canonically (ADR 003), so the result does not depend on `jobs`."""
    from ..parallel import parallel_map
    from ..prove.rulepaths import enumerate_paths
    from ..prove.scope import prepare

    situations = situations if situations is not None else load_situations(model)
    transitions = {t.id for t in model.transitions}
    touched: set[str] = set()
    for claim in claims:
        paths, _ = enumerate_paths(model, claim, prepare(model, claim))
        touched |= {r for p in paths for o in p.outcomes.values() for r in o.rules if r in transitions}
    claim_sigs = [(signature(c.scenario, c.kinds), setup_of(c)) for c in claims]
    setups = _setups(claims)

    def explore(unit: tuple[int, int]) -> tuple[int, int, set[str], list[Missed]]:
        index, order = unit
        return _explore(model, situations[order], order, setups, index, claim_sigs, transitions)

    units = [(index, order) for index in range(len(setups)) for order in range(len(situations))]
    total = covered = 0
    missed: list[Missed] = []
    for classes, in_claims, rules, found in parallel_map(explore, units, jobs):
        total += classes
        covered += in_claims
        touched |= rules
        missed += found
    missed.sort(key=lambda m: (m.changes, m.events, m.id))
    untouched = tuple(r for r in dict.fromkeys(t.id for t in model.transitions) if r not in touched)
    shown_setups = [{f"{o}.{n}": v for (o, n), v in s.items()} for s in setups]
    return Gaps(total, covered, missed, tuple(r for r in dict.fromkeys(t.id for t in model.transitions)
                                              if r in touched), untouched, shown_setups)


def _explore(model: Model, situation: Situation, order: int, setups: list[dict[Setting, Any]], index: int,
             claim_sigs: list[tuple[Any, dict[Setting, Any]]],
             transitions: set[str]) -> tuple[int, int, set[str], list[Missed]]:
    """One situation in one setup: (behaviour classes, how many a claim covers, the rules they exercise when
    covered, the missed scenarios)."""
    from ..prove.rulepaths import closest_run, enumerate_paths
    from ..prove.scope import prepare
    from ..prove.z3api import any_of
    from ..simulate.scenario_file import scenario_text, setting_text

    fixed = setups[index]
    claim = _situation_claim(model, situation, fixed, f"@{index}")
    prepared = prepare(model, claim)
    space = prepared.space
    paths, _ = enumerate_paths(model, claim, prepared, every_field=True)
    feasible = [p for p in paths if p.feasible]
    rules_of = [{r for o in p.outcomes.values() for r in o.rules if r in transitions} for p in feasible]
    sig = signature(claim.scenario, {})
    if any(theirs == fixed and _matches(sig, csig) for csig, theirs in claim_sigs):
        return len(feasible), len(feasible), set().union(*rules_of), []
    missed = []
    folded: dict[tuple[Any, ...], list[int]] = {}
    for i, p in enumerate(feasible):
        key = tuple((k, o.stored, o.status, o.accepted_by is not None, o.regarding is not None)
                    for k, o in sorted(p.outcomes.items()))
        folded.setdefault(key, []).append(i)
    # Numbered in a canonical order (by outcome), not in the order the solver happened to find them.
    for number, members in enumerate((folded[k] for k in sorted(folded, key=repr)), 1):
        # A run at the defaults is already the closest scenario; otherwise ask Z3 for one.
        at_defaults = [feasible[i] for i in members if feasible[i].settings == space.defaults]
        run = at_defaults[0] if at_defaults else closest_run(model, claim, prepared,
                                                             [any_of([feasible[i].condition for i in members])])
        changed = {space.label(s): v for s, v in run.settings.items() if space.defaults.get(s) != v}
        when = (" when " + ", ".join(setting_text(k, v) for k, v in changed.items())) if changed else \
            " under the default settings"
        outcome = "; ".join(_outcome_text(k, o) for k, o in run.outcomes.items())
        rules = tuple(r for r in dict.fromkeys(t.id for t in model.transitions)
                      if any(r in rules_of[i] for i in members))
        n_events = sum(1 for e in claim.scenario.events if e.kind not in SETTLE)
        missed.append(Missed(
            f"{situation.id}-{number}" + (f"@{index + 1}" if len(setups) > 1 else ""),
            f"{situation.says[0].upper()}{situation.says[1:]}: {outcome}{when}.",
            {k: (f"{o.status}" if o.stored else "not stored") for k, o in run.outcomes.items()},
            changed, scenario_text(claim, space.defaults, run.settings, run.outcomes), rules, situation.group,
            len(members), len(changed), n_events + order / 1000))
    return len(feasible), 0, set(), missed


def _setup_name(setup: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in setup.items()) or \
        "no fixed settings"


def gaps_text(source: str, g: Gaps) -> str:
    lines = [f"Missed scenarios for {source}", ""]
    for i, setup in enumerate(g.setups, 1):
        lines.append(f"Setup {i}: {_setup_name(setup)}")
    lines += ["", f"Coverage: {g.classes} behaviour classes in scope (every rule path of the catalogue's situations); "
              f"{g.covered} covered by a claim, {g.classes - g.covered} missed, shown as {len(g.missed)} scenarios "
              "(classes of one situation with the same outcome folded)."]
    by_group: dict[str, list[Missed]] = {}
    for m in g.missed:
        by_group.setdefault(m.group, []).append(m)
    number = 0
    for group in sorted(by_group, key=lambda k: min(g.missed.index(m) for m in by_group[k])):
        lines += ["", group[0].upper() + group[1:]]
        for m in by_group[group]:
            number += 1
            which = f" [setup {m.id.rsplit('@', 1)[1]}]" if "@" in m.id else ""
            folded = f" ({m.classes} rule paths)" if m.classes > 1 else ""
            lines.append(f"  {number}. {m.sentence}{which}{folded}")
            lines.append(f"     id {m.id}; rules: {', '.join(m.rules) or '(none)'}")
    lines += ["", "Rules no claim exercises: " + (", ".join(g.rules_untouched) or "none"), ""]
    return "\n".join(lines)


def gaps_json(g: Gaps) -> dict[str, Any]:
    return {"classes": g.classes, "covered": g.covered,
            "missed": [{"id": m.id, "sentence": m.sentence, "outcome": m.outcome, "settings": m.settings,
                        "scenario": m.scenario, "rules": list(m.rules), "group": m.group, "classes": m.classes}
                       for m in g.missed],
            "rules_untouched": list(g.rules_untouched), "rules_touched": list(g.rules_touched), "setups": g.setups}
