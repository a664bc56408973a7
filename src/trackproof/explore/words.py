"""The words of a `gaps` entry: a situation and its outcome as a consultant writes them, the settings that matter,
and why (the deciding rule's own reason, from the model). No internal notation: messages are "the email", "the
reply", "the forward"; the second activity of an email between users is "the recipient's activity"; who accepted
is said of received email only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..simulate.narrate import SEND_DETAILS
from ..simulate.outcomes import Outcome
from ..simulate.scenario_file import setting_text
from ..spec.claims import Setting
from ..spec.ir import Expr, Model
from ..spec.scenario import Event
from .stories import SETTLE

_VIA = {"crm": "from Dynamics 365", "outlook": "from Outlook"}
_TOOLS = {"app_for_outlook": "App for Outlook", "legacy_client": "the legacy Dynamics 365 for Outlook client",
          "copilot_for_sales": "Copilot for Sales"}
_STATUS = {"sent": "Sent", "received": "Received", "pending_send": "Pending Send", "failed": "Failed",
           "draft": "Draft", "completed": "Completed", "canceled": "Canceled"}


def _names(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return " and ".join(str(v) for v in items)


def _event(e: Event, first: dict[str, Any]) -> str:
    p = e.params
    if e.kind == "send" and "reply_to" in p:
        return f"{p['from']} replies" + (f" {_VIA[p['via']]}" if p.get("via") in _VIA else "") + _shape(p)
    if e.kind == "send" and "forward_of" in p:
        return f"{p['from']} forwards it to {_names(p.get('to', []))}" + \
            (f" {_VIA[p['via']]}" if p.get("via") in _VIA else "") + _shape(p)
    if e.kind == "send":
        via = p.get("via", "outside")
        text = f"{p['from']} emails {_names(p.get('to', []))}" + (f" {_VIA[via]}" if via in _VIA else "")
        text += f" with {_names(p['cc'])} on Cc" if p.get("cc") else ""
        return text + (f" with {_names(p['bcc'])} on Bcc" if p.get("bcc") else "")
    if e.kind == "track":
        return f"{p['by']} tracks it with {_TOOLS.get(p.get('via', 'app_for_outlook'), p.get('via'))}"
    if e.kind == "categorize":
        return f"{p['by']} gives it the Tracked to Dynamics 365 category"
    if e.kind == "uncategorize":
        return f"{p['by']} removes the category"
    if e.kind == "untrack":
        return f"{p['by']} untracks it"
    if e.kind == "delete":
        return "its activity is deleted in Dynamics 365" if p.get("in") == "crm" else f"{p['by']} deletes it in Outlook"
    return e.kind.replace("_", " ")


def _shape(p: dict[str, Any]) -> str:
    """How a reply or forward was written, where it is not the usual way (the subject and its headers kept)."""
    text = "".join(words for key, words in SEND_DETAILS if p.get(key))
    if p.get("subject_changed") and p.get("in_reply_to_kept") is False:
        text += " and In-Reply-To dropped (older Outlook)"
    return text


def group_of(events: tuple[Event, ...]) -> str:
    """What a scenario's first message is: received, sent from Dynamics 365, sent from Outlook."""
    via = events[0].params.get("via", "outside") if events else "outside"
    return {"crm": "sent from Dynamics 365", "outlook": "sent from Outlook"}.get(str(via), "received")


def situation_text(events: tuple[Event, ...]) -> str:
    own = [e for e in events if e.kind not in SETTLE]
    first = own[0].params if own else {}
    text = "; ".join(_event(e, first) for e in own)
    return text[:1].upper() + text[1:]


def _message(key: str, events: tuple[Event, ...]) -> str:
    mid, _, side = key.partition(".")
    sent = next((e for e in events if e.kind == "send" and e.params.get("id") == mid), None)
    name = "the email"
    if sent is not None and "reply_to" in sent.params:
        name = "the reply"
    elif sent is not None and "forward_of" in sent.params:
        name = "the forward"
    return f"the recipient's activity for {name}" if side == "incoming" else name


def outcome_text(key: str, o: Outcome, events: tuple[Event, ...], kept: bool = False,
                 outcomes: dict[str, Outcome] | None = None) -> str:
    """`kept`: the last event left it as it was ("is still stored", "is still not stored"); `outcomes`: every
    message's, to say that a reply stored is not tied to the email it answers when that email is stored."""
    name = _message(key, events)
    if not o.stored:
        deleted = " (its activity was deleted)" if o.was_stored else ""
        return f"{name} is {'still ' if kept else ''}not stored{deleted}"
    if kept:
        return f"{name} is still stored ({', '.join(_details(o, events, outcomes or {}))})"
    return f"{name} is stored ({', '.join(_details(o, events, outcomes or {}))})"


#: The model's definitions of each way a reply is tied (R40's order), and where the correlation is decided (the
#: legacy client's, then server-side sync's and the Email Router's): words read the model's correlation by them
#: (tests/test_gaps.py checks that the model has each).
_TIES = {"smart matching": "smart_correlates", "its tracking token": "token_correlates", "": "header_correlates"}
_DECIDES = ("legacy_correlates", "correlates")
MODEL_NAMES = (*_TIES.values(), *_DECIDES)


def tied_by(o: Outcome) -> str:
    """How a stored email was tied to the one it correlated to, from what the model's correlation tried (R40:
    In-Reply-To, the tracking token, ConversationIndex, then smart matching, each only once those before it found
    nothing): smart matching where it was tried, the tracking token where it was tried and Parent Activity Id stayed
    empty (only In-Reply-To and ConversationIndex set it, R131); "" for the headers, or when it is not tied."""
    if not o.correlated_to:
        return ""
    if _TIES["smart matching"] in o.rules:
        return "smart matching"
    return "its tracking token" if o.parent_activity is None and _TIES["its tracking token"] in o.rules else ""


def _details(o: Outcome, events: tuple[Event, ...], outcomes: dict[str, Outcome]) -> list[str]:
    details = [_STATUS.get(str(o.status), str(o.status))]
    if o.direction == "incoming" and o.accepted_by:
        details.append(f"accepted by {o.accepted_by}'s mailbox")
    if o.tracked_by:  # its Accepting Entity stays empty; who accepted is said of received email only
        details.append(f"tracked by hand by {o.tracked_by}" + (", no accepting mailbox" if o.direction == "incoming"
                                                               else ""))
    answered = _answered(o, events)
    if o.correlated_to:
        method = tied_by(o)
        details.append(f"tied to {_message(o.correlated_to, events)}" + (f" by {method}" if method else ""))
    elif answered is not None and outcomes.get(answered) is not None and outcomes[answered].stored and \
            any(d in o.rules for d in (*_TIES.values(), *_DECIDES)):  # the model tried to tie it, and could not
        details.append(f"not tied to {_message(answered, events)}")
    if o.regarding:
        details.append(f"Regarding {o.regarding}")
    return details


def _answered(o: Outcome, events: tuple[Event, ...]) -> str | None:
    """The message a reply or forward answers (its first side's key), or None."""
    sent = next((e for e in events if e.kind == "send" and e.params.get("id") == o.message), None)
    if sent is None:
        return None
    parent = sent.params.get("reply_to", sent.params.get("forward_of"))
    return None if parent is None else str(parent)


def setting_words(settings: dict[Setting, Any]) -> str:
    return ", ".join(setting_text(f"{o}.{n}", v) for (o, n), v in sorted(settings.items()))


def _reason(model: Model, rule_id: str) -> str:
    """A rule's or definition's documented reason, on one line."""
    return " ".join(model.rule(rule_id).provenance.reason.split())


def _direct(expr: Expr | None) -> tuple[set[str], list[str]]:
    """The attribute names an expression reads itself, and the definitions it calls."""
    nodes = list(expr.walk()) if expr is not None else []
    return {str(e.value) for e in nodes if e.kind == "attr"}, [str(e.value) for e in nodes if e.kind == "call"]


def _reads(model: Model, expr: Expr | None, seen: set[str] | None = None) -> set[str]:
    """The attribute names an expression reads, through the definitions it calls."""
    seen = set() if seen is None else seen
    names, calls = _direct(expr)
    for call in calls:
        if call in model.definitions and call not in seen:
            seen.add(call)
            names |= _reads(model, model.definitions[call].body, seen)
    return names


def _rule_exprs(model: Model, rule_id: str) -> list[Expr | None]:
    """The expressions of a rule: a definition's body, or a transition's guard and effects."""
    r = model.rule(rule_id)
    if hasattr(r, "body"):
        return [r.body]
    return [getattr(r, "guard", None), *(e.value for e in getattr(r, "effects", ()))]


def _deciding_text(model: Model, rule_id: str, names: set[str], used: set[str] | None = None) -> str:
    """The reason of what reads one of `names` in a rule: the rule itself when its guard or effects name one, else
    the definition (through those it calls) that does, among `used` (the definitions the runs' paths rested on:
    a rule's guard may read a setting in a part the run never took, as the Bcc clause of acceptance for a
    recipient on Cc); else the rule's."""
    seen: set[str] = set()
    queue: list[tuple[str, list[Expr | None]]] = [(rule_id, _rule_exprs(model, rule_id))]
    while queue:
        name, found = queue.pop(0)
        calls: list[str] = []
        for expr in found:
            read, called = _direct(expr)
            if read & names:
                return _reason(model, name)
            calls += called
        for call in calls:
            if call in model.definitions and call not in seen and (used is None or call in used):
                seen.add(call)
                queue.append((call, [model.definitions[call].body]))
    return _reason(model, rule_id)


def _rule_reads(model: Model, rule_id: str) -> set[str]:
    return {n for expr in _rule_exprs(model, rule_id) for n in _reads(model, expr)}


def action_why(model: Model, outcomes: dict[str, Outcome], events: tuple[Event, ...]) -> str | None:
    """Why the last own action did what it did, from the steps it made: the reason of the rule it fired, else of the
    first rule it tried that the action's own shape did not rule out, with the part of its guard that was false
    (its variable named after the one who acted)."""
    own = [e for e in events if e.kind not in SETTLE]
    if not own:
        return None
    last = own[-1]
    actor = str(last.params.get("by", ""))
    for o in sorted(outcomes.values(), key=lambda o: o.key):
        for st in o.steps:
            if st.event != last.number:
                continue
            if st.rule:
                return _reason(model, st.rule)
            for rule, part in st.missed:
                if "`event." in part:
                    continue
                false = part.rsplit(": ", 1)[-1]
                false = re.sub(r"\b[am]\.", f"{actor}." if actor else "", false)
                return _reason(model, rule) + f" Here it could not: {false}."
    return None


def correlation_why(model: Model, outcomes: dict[str, Outcome], events: tuple[Event, ...],
                    changed: dict[Setting, Any]) -> str | None:
    """Why a stored reply or forward is tied the way it is, or not tied (a lesson a claim about whether it is
    stored does not tell): the reason of the correlation method that tied it, else of the correlation the model
    tried (the legacy client's, or the server's) that reads a changed setting (through the definitions it uses).
    None when no stored message answers another."""
    names = {n for _, n in changed}
    for key in sorted(outcomes):
        o = outcomes[key]
        if not o.stored or _answered(o, events) is None:
            continue
        legacy = _DECIDES[0] in o.rules
        if o.correlated_to:
            method = tied_by(o)
            return _reason(model, _DECIDES[0] if legacy and not method else _TIES[method])
        if legacy:
            return _reason(model, _DECIDES[0])
        return next((_reason(model, t) for t in reversed(_TIES.values()) if names & _rule_reads(model, t)),
                    _reason(model, _DECIDES[1]))
    return None


def why(model: Model, outcomes: dict[str, Outcome], changed: dict[Setting, Any],
        usual: dict[str, Outcome] | None = None,
        before: Callable[[], dict[str, Outcome] | None] | None = None) -> str:
    """The deciding rule in words. With `usual` (the same events under the setup): the first rule that fired here
    and not there, else the first that fired there and not here, message by message: what the changed settings
    changed. Else, with `before` (asked only then: the outcomes under the same settings without the last own
    action, or None where there are none to compare): what kept a rule that fires there from firing here (X deleted
    the email before a sync could accept it: what a sync evaluates). Otherwise, the reason of a rule that could have
    moved a message on and did not, or of a rule on its path, that reads a changed setting (through the definitions
    it uses); else the reason of the last rule that fired."""
    names = {n for _, n in changed}

    def ends(o: Outcome | None) -> Any:
        return None if o is None else (o.stored, o.status, o.accepted_by, o.tracked_by, o.correlated_to)

    # the messages that end otherwise there first: what the lesson is about
    for key in sorted(outcomes, key=lambda k: (usual is not None and ends(outcomes[k]) == ends(usual.get(k)), k)):
        here = [s.rule for s in outcomes[key].steps if s.rule]
        there = [s.rule for s in usual[key].steps if s.rule] if usual and key in usual else []
        differs = [r for r in here if r not in there] + [r for r in there if r not in here] if usual else []
        reading = [r for r in differs if names & _rule_reads(model, r)]  # those that read a changed setting first
        if differs:
            rule = (reading or differs)[0]
            # the definitions of the run in which it fired (here, else there)
            used = set(outcomes[key].rules if rule in here or not usual or key not in usual else usual[key].rules)
            return _deciding_text(model, rule, names, used)
    blocked = _blocked(model, outcomes, (before() if before is not None else None) or {})
    if blocked is not None:
        return _reason(model, blocked)
    for o in sorted(outcomes.values(), key=lambda o: o.key):
        for rule in (*(r for r, _ in o.why_not), *reversed(o.rules)):
            if names & _rule_reads(model, rule):
                return _reason(model, rule)
    for o in outcomes.values():
        fired = [s.rule for s in o.steps if s.rule]
        if fired:
            return _reason(model, fired[-1])
    return "No rule tracks it: " + next(iter(outcomes.values())).reason.split(":")[0] if outcomes else ""


def _blocked(model: Model, outcomes: dict[str, Outcome], before: dict[str, Outcome]) -> str | None:
    """The definition that kept a rule from firing here which fires in `before` (the same settings without the last
    own action), message by message: the innermost one that the rule's "why not" names (simulate/explain.py walks
    into the definitions a guard calls, naming each as `name(arguments)`); None when there is none."""
    for key in sorted(outcomes):
        there = before.get(key)
        if there is None:
            continue
        here = {s.rule for s in outcomes[key].steps if s.rule}
        misses = dict(outcomes[key].why_not)
        for rule in (s.rule for s in there.steps if s.rule and s.rule not in here):
            named = [str(n) for n in re.findall(r"([A-Za-z_]\w*)\(", misses.get(rule, ""))
                     if n in model.definitions]
            if named:
                return named[-1]
    return None
