"""A run written back as a scenario file: what differs from the defaults, the events, and the outcome as
expectations, so that `trackproof run` replays it to the same outcome (counterexamples, missed scenarios)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..spec.claims import Claim, Setting
from ..spec.scenario import Event
from .outcomes import Outcome


def value_text(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def yaml_scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(yaml_scalar(x) for x in v) + "]"
    text = str(v)
    return text if text.replace("_", "").replace("-", "").isalnum() else '"' + text.replace('"', '\\"') + '"'


def _event_yaml(e: Event) -> str:
    if not e.params:
        return f"  - {e.kind}"
    body = ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in e.params.items())
    return f"  - {e.kind}: {{{body}}}"


def setting_text(name: str, value: Any) -> str:
    return f"{name} = {value_text(value)}"


def scenario_text(claim: Claim, defaults: Mapping[Setting, Any], run_settings: Mapping[Setting, Any],
                  outcomes: Mapping[str, Outcome], title: str | None = None,
                  events: tuple[Event, ...] | None = None, parent: bool = False) -> str:
    """A scenario file of one run of a claim's (or situation's) premise under `run_settings`, listing only what
    differs from the `defaults`, with the run's `outcomes` as its expectations. `parent`: of a stored reply or
    forward, what it is tied to and its Parent Activity Id are expected even when empty (not tied; tied by a
    tracking token or smart matching)."""
    # Only what differs from Dynamics 365's defaults: the claim's fixed settings and the counterexample's changes.
    changed = {k: v for k, v in run_settings.items() if k[1] == "kind" or defaults.get(k) != v}
    settings: dict[Setting, Any] = {**claim.fixed, **changed}
    org = {n: v for (o, n), v in settings.items() if o == "org"}
    lines = [f"name: {yaml_scalar(title or claim.text)}",
             f"description: {yaml_scalar(claim.text)}"]
    if org:
        lines.append("settings:")
        lines.append("  org: {" + ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in sorted(org.items())) + "}")
    readings = {n: v for (o, n), v in settings.items() if o == "reading"}
    if readings:
        lines.append("readings: {" + ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in sorted(readings.items())) + "}")
    lines.append("participants:")
    for pid, p in claim.scenario.participants.items():
        kind = settings.get((pid, "kind"), p.kind)
        own = {**p.settings, **{n: v for (o, n), v in settings.items() if o == pid and n != "kind"}}
        fields = [f"kind: {kind}"]
        if p.address != f"{pid.lower()}@example.com":
            fields.append(f"address: {yaml_scalar(p.address)}")
        if p.members:
            fields.append(f"members: {yaml_scalar(list(p.members))}")
        fields += [f"{k}: {yaml_scalar(v)}" for k, v in own.items()]
        lines.append(f"  {pid}: {{{', '.join(fields)}}}")
    lines.append("events:")
    lines += [_event_yaml(e) for e in (events if events is not None else claim.scenario.events)]
    if outcomes:
        lines.append("expect:")
        played = events if events is not None else claim.scenario.events
        answers = {str(e.params.get("id")) for e in played if e.kind == "send" and
                   ("reply_to" in e.params or "forward_of" in e.params)}
        for key, o in outcomes.items():
            fields = [f"stored: {yaml_scalar(o.stored)}", f"status: {o.status if o.status else 'null'}"]
            # the fields a claim may be about, where the run set them: replaying checks them too
            fields += [f"{name}: {yaml_scalar(value)}" for name, value in
                       (("regarding", o.regarding), ("accepted_by", o.accepted_by), ("tracked_by", o.tracked_by),
                        ("correlated_to", o.correlated_to))
                       if value is not None]
            if parent and o.stored and o.message in answers:  # what a reply is tied to, and how, even if nothing
                fields += [f"{name}: {yaml_scalar(value) if value else 'null'}" for name, value in
                           (("correlated_to", o.correlated_to), ("parent_activity", o.parent_activity))
                           if not (name == "correlated_to" and value)]
            lines.append(f"  {yaml_scalar(key)}: {{{', '.join(fields)}}}")
    return "\n".join(lines) + "\n"
