"""Claim files: what someone believes about Dynamics 365 email, in a form the prover can decide.

A claim is a scope (which settings are fixed, which range freely), a premise (participants and a sequence of events,
written exactly as in a scenario file) and a conclusion (an expression over the outcome of each email). The claim
says: for every setting in scope, if the events can happen, the conclusion holds at the end. See docs/claims.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Loc, TrackproofError
from ..spec import expr as X
from .binders import bound_binders, of_model
from .ir import OUTCOME, Attribute, Model, Vocabulary
from .readings import READING, parse_choices
from .scenario import Scenario, email_ids, parse_event, parse_participants
from .universe import PROPERTY_KINDS, Property, Universe, load_universe, property_key, universe_emails
from .vocab import check_setting_value
from .yamlsrc import Mapping, check_keys, expect_mapping, expect_sequence, expect_text, load_file, load_text

EMAILS = f"set[{OUTCOME}]"  # the messages that exist, in a universe claim's property
STATUS = ("none", "draft", "pending_send", "sent", "failed", "received")
DIRECTION = ("none", "incoming", "outgoing")
Setting = tuple[str, str]  # (owner: "org", "reading" or a participant id, setting name)
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a claim's id names files (check --counterexamples)


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    reading: str
    file: str
    loc: Loc
    scenario: Scenario  # the premise, with the fixed settings applied
    fixed: dict[Setting, Any]
    free: tuple[Setting, ...] | None  # None: every setting not fixed ranges freely
    kinds: dict[str, tuple[str, ...]]  # participants whose kind ranges over several values
    assume: X.Expr | None  # a further premise over the settings
    conclusion: X.Expr  # for a universe claim, its property's expression
    universe: Universe | None = None  # a claim about every event sequence of a universe (spec/universe.py)
    property: Property | None = None


def outcome_vocabulary(vocab: Vocabulary, states: tuple[str, ...] = ()) -> Vocabulary:
    """The vocabulary of conclusions: email ids name outcomes with the fields `trackproof run` reports (and `state`,
    the lifecycle state of model/lifecycle.yaml, one of `states`)."""
    def attr(name: str, typ: str) -> Attribute:
        return Attribute(name, typ, OUTCOME, Loc("<outcome>", 0, 0))

    outcome = {a.name: a for a in (
        attr("stored", "bool"), attr("status", "activity_status"), attr("direction", "activity_direction"),
        attr("regarding", "party"), attr("accepted_by", "party"), attr("correlated_to", OUTCOME),
        attr("tracked_by", "party"),
        attr("parent_activity", OUTCOME), attr("from", "party"), attr("to", "set[party]"), attr("cc", "set[party]"),
        attr("queue_items", "set[party]"), attr("categorized", "set[party]"), attr("undeliverable", "set[party]"),
        attr("incoming", OUTCOME), attr("state", "activity_state"),
        # whether an email activity existed for it at some point (a history fact: "once created, it stays")
        attr("was_stored", "bool"),
        # what happened to the message itself (universe claims quantify over the messages that exist)
        attr("origin", "origin"), attr("author", "party"), attr("is_reply", "bool"), attr("is_forward", "bool"),
        attr("parent", OUTCOME), attr("tracked_by_hand", "bool"), attr("exists", "bool"))}
    enums = {**vocab.enums, "activity_status": STATUS, "activity_direction": DIRECTION,
             "activity_state": ("none", *states)}
    return replace(vocab, enums=enums, attributes={**vocab.attributes, OUTCOME: outcome})


def setting_attribute(model: Model, owner: str, name: str, kind: str | None) -> Attribute | None:
    groups = model.vocabulary.groups
    if owner == "org":
        return groups["org"].get(name)
    if owner == READING:
        return groups.get(READING, {}).get(name)
    if kind in ("user", "queue") and name in groups["mailbox"]:
        return groups["mailbox"][name]
    return groups["party"].get(name) if name != "kind" else None


def _setting_key(model: Model, key: str, loc: Loc, kinds: dict[str, str]) -> tuple[Setting, Attribute]:
    owner, _, name = key.partition(".")
    if owner not in ("org", READING) and owner not in kinds:
        raise TrackproofError("E401", f"unknown participant '{owner}' in '{key}'", loc)
    attr = setting_attribute(model, owner, name, kinds.get(owner))
    if attr is None:
        raise TrackproofError("E402", f"unknown setting '{key}': write org.<setting> or <participant>.<setting>", loc)
    return (owner, name), attr


def _kind_choices(model: Model, raw_parts: Mapping) -> dict[str, tuple[str, ...]]:
    """Participants whose kind is a list: the kinds it ranges over (the first stands in for loading)."""
    kinds: dict[str, tuple[str, ...]] = {}
    known = model.vocabulary.enums["kind"]
    for pid, pspec in raw_parts.items():
        if not (isinstance(pspec, Mapping) and isinstance(pspec.get("kind"), list)):
            continue
        if not all(isinstance(k, str) for k in pspec["kind"]):
            raise TrackproofError("E104", "a list of kinds holds kinds (words), not lists or mappings",
                                  pspec.locs["kind"])
        choices = tuple(pspec["kind"])
        if not choices:
            raise TrackproofError("E104", "a list of kinds needs at least one kind", pspec.locs["kind"])
        for k in choices:
            if k not in known:
                raise TrackproofError("E207", f"'{k}' is not a kind of participant", pspec.locs["kind"],
                                      "kinds: " + ", ".join(known))
            if (k in ("user", "queue")) != (choices[0] in ("user", "queue")):
                raise TrackproofError("E207", f"kinds of '{pid}' must all be mailbox kinds or all not: {k}",
                                      pspec.locs["kind"])
        kinds[str(pid)] = choices
        pspec["kind"] = choices[0]
    return kinds


CLAIM_KEYS = {"id", "text", "reading", "scope", "participants", "events", "assume", "conclusion"}
UNIVERSE_KEYS = {"id", "text", "reading", "scope", "universe", "alphabet", "assume", "when", *PROPERTY_KINDS}


def _scope(model: Model, spec: Mapping, kinds: dict[str, tuple[str, ...]],
           simple: dict[str, str]) -> tuple[dict[Setting, Any], tuple[Setting, ...] | None]:
    """A claim's `scope`: the settings it fixes and, when it lists them, those that range freely."""
    fixed: dict[Setting, Any] = {}
    free: tuple[Setting, ...] | None = None
    if "scope" not in spec:
        return fixed, free
    scope = expect_mapping(spec["scope"], spec.locs["scope"], "scope")
    check_keys(scope, {"fixed", "free", "readings"}, set(), "scope")
    if "readings" in scope:
        chosen_readings = parse_choices(model.readings, scope["readings"], scope.locs["readings"], "readings")
        fixed.update(((READING, point), choice) for point, choice in chosen_readings.items())
    raw_fixed = expect_mapping(scope.get("fixed") or Mapping(), scope.locs.get("fixed", scope.loc), "fixed")
    for key, value in raw_fixed.items():
        where = raw_fixed.key_locs[key]
        setting, attr = _setting_key(model, str(key), where, simple)
        check_setting_value(attr, value, model.vocabulary.enums, raw_fixed.locs[key])
        fixed[setting] = value
    if "free" in scope:
        items = expect_sequence(scope["free"], scope.locs["free"], "free")
        chosen: list[Setting] = []
        for k, loc_k in zip(items, items.locs, strict=True):
            owner, _, name = str(k).partition(".")
            if name == "kind":  # a participant's kind ranges over the list given with the participant
                if owner not in kinds:
                    raise TrackproofError("E402", f"'{k}': give {owner} a list of kinds to let its kind range", loc_k)
                continue
            chosen.append(_setting_key(model, str(k), loc_k, simple)[0])
        free = tuple(chosen)
    return fixed, free


def _expression(model: Model, spec: Mapping, key: str, names: dict[str, str], what: str) -> X.Expr:
    vocab = outcome_vocabulary(model.vocabulary, tuple(model.states))
    sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in model.definitions.items()}
    parsed = X.parse(spec[key], vocab, sigs, names, spec.origins.get(key), spec.locs[key])
    bound_binders(parsed, of_model(model))
    if parsed.type != X.BOOL:
        raise TrackproofError("E204", f"{what} must be true or false", spec.locs[key])
    return parsed


def _claim(model: Model, spec: Mapping, loc: Loc, path: str) -> Claim:
    is_universe = "universe" in spec
    if is_universe:
        check_keys(spec, UNIVERSE_KEYS, {"id", "text", "universe", "alphabet"}, "a universe claim")
        box = expect_mapping(spec["universe"], spec.locs["universe"], "universe")
        if "participants" not in box:
            raise TrackproofError("E105", "missing key 'participants' in the universe", box.loc)
        raw_parts = expect_mapping(box["participants"], box.locs["participants"], "participants")
    else:
        check_keys(spec, CLAIM_KEYS, {"id", "text", "participants", "events", "conclusion"}, "a claim")
        raw_parts = expect_mapping(spec["participants"], spec.locs["participants"], "participants")
    if not (isinstance(spec["id"], str) and ID.fullmatch(spec["id"])):
        raise TrackproofError("E104", f"a claim id is a word of letters, digits, '.', '-' or '_', not {spec['id']!r}",
                              spec.locs["id"])
    kinds = _kind_choices(model, raw_parts)
    participants = parse_participants(model, raw_parts)
    fixed, free = _scope(model, spec, kinds, {pid: p.kind for pid, p in participants.items()})
    # Settings written on a participant are fixed, as in a scenario (scope.fixed says the same thing elsewhere).
    for pid, p in participants.items():
        for name, value in p.settings.items():
            fixed.setdefault((pid, name), value)
    org: dict[str, Any] = {}
    readings: dict[str, str] = {}
    for (owner, name), value in fixed.items():
        if owner == "org":
            org[name] = value
        elif owner == READING:
            readings[name] = value
        else:
            p = participants[owner]
            participants[owner] = replace(p, settings={**p.settings, name: value})
    universe: Universe | None = None
    prop: Property | None = None
    if is_universe:
        universe = load_universe(model, spec, participants)
        events = universe.prefix
        ids = universe_emails(universe)
    else:
        events_raw = expect_sequence(spec["events"], spec.locs["events"], "events")
        events = tuple(parse_event(raw, ev_loc, i + 1)
                       for i, (raw, ev_loc) in enumerate(zip(events_raw, events_raw.locs, strict=True)))
        ids = email_ids(events)
    names = {"org": "org", **{pid: X.PARTY for pid in participants}, **{eid: OUTCOME for eid in ids}}
    if is_universe:
        names["emails"] = EMAILS
        key = property_key(spec)
        conclusion = _expression(model, spec, key, names, f"'{key}'")
        when = _expression(model, spec, "when", names, "'when'") if "when" in spec else None
        if when is not None and key not in ("always", "never"):
            raise TrackproofError("E106", "'when' guards an 'always' or a 'never'", spec.key_locs["when"])
        prop = Property(key, when, spec.key_locs[key])
    else:
        conclusion = _expression(model, spec, "conclusion", names, "a conclusion")
    assume = None
    if "assume" in spec:
        sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in model.definitions.items()}
        assume = X.parse(spec["assume"], model.vocabulary, sigs, {"org": "org", **{p: X.PARTY for p in participants}},
                         spec.origins.get("assume"), spec.locs["assume"])
        bound_binders(assume, of_model(model))
        if assume.type != X.BOOL:
            raise TrackproofError("E204", "'assume' must be true or false", spec.locs["assume"])
    reading = expect_text(spec, "reading", "a claim") or ""
    scenario = Scenario(path, str(spec["id"]), reading, org, participants, events, {}, {}, readings)
    text = " ".join((expect_text(spec, "text", "a claim") or "").split())
    return Claim(str(spec["id"]), text, " ".join(reading.split()), path, loc, scenario, fixed,
                 free, kinds, assume, conclusion, universe, prop)


def load_claims(path: str | os.PathLike[str], model: Model) -> list[Claim]:
    name = os.fspath(path)
    return _claims(load_file(name), name, model)


def load_claim_files(paths: list[str] | tuple[str | os.PathLike[str], ...], model: Model) -> list[Claim]:
    """The claims of several claim files, every file validated before any proof; a claim id is one claim's
    across all of them (counterexample files, report anchors and the consistency section are named by it)."""
    claims = [c for path in paths for c in load_claims(path, model)]
    _unique(claims)
    return claims


def claims_from_text(text: str, name: str, model: Model) -> list[Claim]:
    """The claims of a claim file's text (one a command builds, such as the universe `gaps` explores); `name`
    stands for its path in messages."""
    return _claims(load_text(text, name), name, model)


def _claims(raw: Any, name: str, model: Model) -> list[Claim]:
    doc = expect_mapping(raw, Loc(name, 1, 1), "a claim file")
    check_keys(doc, {"claims", "title", "description"}, {"claims"}, "a claim file")
    expect_text(doc, "title", "a claim file")
    expect_text(doc, "description", "a claim file")
    items = expect_sequence(doc["claims"], doc.locs["claims"], "claims")
    if not items:
        raise TrackproofError("E104", "a claim file needs at least one claim", doc.locs["claims"])
    claims = [_claim(model, expect_mapping(raw, loc, "a claim"), loc, name) for raw, loc in zip(items, items.locs,
                                                                                               strict=True)]
    _unique(claims)
    return claims


def _unique(claims: list[Claim]) -> None:
    seen: dict[str, Loc] = {}
    for c in claims:
        if c.id in seen:
            raise TrackproofError("E307", f"claim id '{c.id}' is used twice (first at {seen[c.id]})", c.loc)
        seen[c.id] = c.loc


def with_readings(model: Model, claims: list[Claim], chosen: list[str]) -> list[Claim]:
    """The claims with the readings chosen on the command line (`--reading R91=gates_filters`), for every claim
    that does not choose that point's reading itself."""
    where = Loc("<--reading>", 1, 1)
    choices: dict[str, str] = {}
    for item in chosen:
        point, sep, choice = item.partition("=")
        if not sep:
            raise TrackproofError("E402", f"'--reading {item}': write POINT=READING, e.g. R91=gates_filters", where)
        mapping = Mapping({point: choice})
        mapping.loc, mapping.locs, mapping.key_locs = where, {point: where}, {point: where}
        choices.update(parse_choices(model.readings, mapping, where, "--reading"))
    out = []
    for claim in claims:
        extra = {(READING, p): c for p, c in choices.items() if (READING, p) not in claim.fixed}
        if extra:
            scenario = replace(claim.scenario, readings={**claim.scenario.readings, **{n: c for (_, n), c in
                                                                                       extra.items()}})
            claim = replace(claim, fixed={**claim.fixed, **extra}, scenario=scenario)
        out.append(claim)
    return out
