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

from dataclasses import dataclass
from typing import Any

from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .situations import SETTLE, Situation, load_situations, matches, outcome_text, signature, situation_claim


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


def find_gaps(model: Model, claims: list[Claim], situations: list[Situation] | None = None, jobs: int = 1) -> Gaps:
    """Every behaviour class of every catalogue situation in each setup of the claims; those no claim covers,
    folded and ranked. Each (setup, situation) is explored on its own, on up to `jobs` processes: every answer is
    chosen canonically (ADR 003), so the result does not depend on `jobs`."""
    from ..parallel import parallel_map
    from ..prove.rulepaths import enumerate_paths
    from ..prove.setup import prepare

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
    from ..prove.setup import prepare
    from ..prove.z3api import any_of
    from ..simulate.scenario_file import scenario_text, setting_text

    fixed = setups[index]
    claim = situation_claim(model, situation, fixed, f"@{index}")
    prepared = prepare(model, claim)
    space = prepared.space
    paths, _ = enumerate_paths(model, claim, prepared, every_field=True)
    feasible = [p for p in paths if p.feasible]
    rules_of = [{r for o in p.outcomes.values() for r in o.rules if r in transitions} for p in feasible]
    sig = signature(claim.scenario, {})
    if any(theirs == fixed and matches(sig, csig) for csig, theirs in claim_sigs):
        return len(feasible), len(feasible), set().union(*rules_of), []
    missed = []
    folded: dict[tuple[Any, ...], list[int]] = {}
    for i, p in enumerate(feasible):
        key = tuple((k, o.stored, o.status, o.accepted_by is not None or o.tracked_by is not None,
                     o.regarding is not None)
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
        outcome = "; ".join(outcome_text(k, o) for k, o in run.outcomes.items())
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
