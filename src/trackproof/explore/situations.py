"""The catalogue of everyday situations (model/situations.yaml) that `gaps` and `diff` explore, and what they share:
a situation played as a claim in a setup, and the words for an email's outcome."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Loc
from ..spec.claims import Claim, Setting
from ..spec.expr import BOOL, Expr
from ..spec.ir import Model
from ..spec.scenario import SHORT_FORM, Event, Participant, Scenario, parse_event, parse_participants
from ..spec.shape import load_document
from ..spec.yamlsrc import expect_mapping, expect_sequence

SETTLE = ("sync", "outlook_start", "outlook_stop")


TRUE = Expr("const", BOOL, Loc("<gaps>", 0, 0), "True", True)


@dataclass(frozen=True)
class Situation:
    id: str
    group: str
    says: str
    scenario: Scenario


def load_situations(model: Model, path: str | None = None) -> list[Situation]:
    """The catalogue of situations in `path` (default: situations.yaml of the model's own folder), its shape checked
    first (spec/shape.py)."""
    path = path or os.path.join(model.root, "situations.yaml")
    own = os.path.abspath(path) == os.path.abspath(os.path.join(model.root, "situations.yaml"))
    doc = load_document(path, "situations", model.situations_digest if own else "")
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


def matches(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
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


def situation_claim(model: Model, situation: Situation, fixed: dict[Setting, Any], tag: str) -> Claim:
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


def outcome_text(key: str, outcome: Any) -> str:
    if not outcome.stored:
        return f"{key} is not stored"
    extra = [f"accepted by {outcome.accepted_by}"] if outcome.accepted_by else []
    extra += [f"tracked by {outcome.tracked_by}"] if outcome.tracked_by else []
    extra += [f"Regarding {outcome.regarding}"] if outcome.regarding else []
    return f"{key} is stored ({outcome.status}{', ' + ', '.join(extra) if extra else ''})"
