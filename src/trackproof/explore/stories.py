"""The universe `gaps` explores, as universe claims ("stories"): the claims' participants and what the consultant
adds, every first message they can send, then every sequence of the actions that follow it.

A story is a universe claim (spec/universe.py) whose prefix is one first message (a contact emails X, X sends from
Dynamics 365, X sends from Outlook, ...) and whose alphabet is what may happen next: sync cycles, X's legacy Outlook
starting, replies by anyone who received it, manual tracking with App for Outlook or the legacy client,
the category set and removed, untracking, deletion in Outlook or in Dynamics 365. A few stories start further on,
with an email X tracked by hand (the category, App for Outlook) and a sync, and try what may undo it (`UNDO`). At
most two messages exist, and at most `AFTER` events follow a story's start: enough for "send, sync, reply, sync" and
"send, sync, track, sync"; a longer story is outside the bound, which the output states. Every mailbox and org
setting ranges freely (the disputed readings at their defaults); the claims' setups only say which settings are
"the usual ones" when the closest scenario is chosen (classes.py).

Why stories rather than one universe: a universe of every first message at once explores the same worlds, one story
after another, in one process; split by first message they run on several cores, each alone.
This module only writes the stories; prove/reach.py explores them and classes.py reads the classes.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..spec.claims import Claim, Setting, claims_from_text
from ..spec.ir import Model

#: The events that are time passing, not something someone does: a story's situation leaves them out.
SETTLE = ("sync", "outlook_start", "outlook_stop")
#: The most events explored after a story's start (its first message, or a tracked email and a sync).
AFTER = 3
#: What may undo tracking in Outlook, tried on an email tracked by hand: whether the activity is kept is the lesson.
UNDO = ("uncategorize", "untrack", "delete")
#: What tracks by hand: where it leaves an email untracked (App for Outlook without server-side sync, the category
#: under the legacy client), that it does nothing is the lesson.
DO = ("track", "categorize")
#: The participants the consultant may add (`--with user`, `--with queue`).
EXTRAS = {"user": ("Y", {"kind": "user"}), "queue": ("Q", {"kind": "queue"})}
_OUTSIDE = ("lead", "contact", "account", "unknown")
#: The reply shapes correlation tells apart, beside the usual one: the subject rewritten (its tracking token gone),
#: with In-Reply-To kept or dropped. `diff` explores them (correlation settings change only what those replies tie
#: to); `gaps` does not: they would add a dozen entries whose lesson is a reply's subject, past its 40.
RESHAPED = {"subject_changed": True, "in_reply_to_kept": [True, False]}


@dataclass(frozen=True)
class Cast:
    """Who takes part: the users and queues with mailboxes, and the outside parties with the kinds each ranges over."""

    users: tuple[str, ...]
    queues: tuple[str, ...]
    outside: dict[str, tuple[str, ...]]
    # the mailboxes beside the first user's (a colleague, a queue; the claims' or added): their filter alone ranges
    added: tuple[str, ...] = ()
    like: dict[str, dict[str, Any]] = field(default_factory=dict)  # their settings as the claims' setups give them
    first: dict[str, Any] = field(default_factory=dict)  # the first user's mailbox as the claims set it up

    def participants(self, model: Model | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {u: {"kind": "user"} for u in self.users}
        out.update({q: {"kind": "queue"} for q in self.queues})
        out.update({p: {"kind": list(k) if len(k) > 1 else k[0]} for p, k in self.outside.items()})
        if model is not None:
            for pid in self.added:
                out[pid].update({**_usual(model, out[pid]["kind"]), **self._alike(model, pid, out[pid]["kind"])})
        return out


    def _alike(self, model: Model, pid: str, kind: str) -> dict[str, Any]:
        mailbox = model.vocabulary.groups["mailbox"]
        return {n: v for n, v in self.like.get(pid, {}).items() if n in mailbox and n != "filter" and
                not (mailbox[n].users_only and kind == "queue")}


def _usual(model: Model, kind: str) -> dict[str, Any]:
    """A colleague's or queue's settings (the claims' or added) at their documented defaults, its mailbox set up as
    the claims set it up (`Cast.like`; an added colleague as the first user), but its filter: what its mailbox
    accepts is the lesson ("a colleague with All accepts it for everyone"); every setting of it free would multiply
    the worlds past what an exploration may take."""
    groups = model.vocabulary.groups
    out: dict[str, Any] = {}
    for name, attr in [*groups["mailbox"].items(), *groups["party"].items()]:
        if name in ("kind", "filter") or attr.field or (attr.users_only and kind == "queue"):
            continue
        value = attr.default_for(kind)
        if value is not None:
            out[name] = value
    return out


def cast_of(claims: list[Claim], extras: tuple[str, ...] = ()) -> Cast:
    """The claims' participants (an outside party's kinds: those the claims give it, and an unknown address), plus
    the extras. Records to link to and distribution lists are left out: no first message is about them."""
    users: list[str] = []
    queues: list[str] = []
    outside: dict[str, list[str]] = {}
    for claim in claims:
        for pid, p in claim.scenario.participants.items():
            kinds = claim.kinds.get(pid, (p.kind,))
            if kinds == ("user",) and pid not in users:
                users.append(pid)
            elif kinds == ("queue",) and pid not in queues:
                queues.append(pid)
            elif all(k in _OUTSIDE for k in kinds):
                seen = outside.setdefault(pid, [])
                seen += [k for k in kinds if k not in seen]
    if not users:  # the first user is X, before any extra (`diff --with user`, which has no claims, gave Y alone)
        users.append("X")
    for extra in extras:
        pid, spec = EXTRAS[extra]
        if pid not in users + queues:
            (users if spec["kind"] == "user" else queues).append(pid)
    if not outside:
        outside["C"] = ["contact"]
    for found in outside.values():
        if "unknown" not in found:
            found.append("unknown")
    def setup(pid: str) -> dict[str, Any]:  # the first claim's that sets up this mailbox
        return next(({n: v for (owner, n), v in c.fixed.items() if owner == pid} for c in claims
                     if any(owner == pid for owner, _ in c.fixed)), {})

    others = [*users[1:], *queues]
    like = {pid: setup(pid) or (setup(users[0]) if pid in users else {}) for pid in others}
    return Cast(tuple(users), tuple(queues), {p: tuple(k) for p, k in outside.items()}, tuple(others), like,
                setup(users[0]))


def first_messages(cast: Cast) -> list[dict[str, Any]]:
    """Every first message of a story: the first user and each outside party writing to each other (the user from
    Dynamics 365 and from Outlook), with the others (a colleague, a queue) on Cc of an email from outside, and an
    email from outside to a queue."""
    x, others = cast.users[0], cast.users[1:]
    out: list[dict[str, Any]] = []
    for c in cast.outside:
        out.append({"id": "E1", "from": c, "to": [x]})
        out += [{"id": "E1", "from": c, "to": [x], "cc": [o]} for o in (*others, *cast.queues)]
        out += [{"id": "E1", "from": c, "to": [q]} for q in cast.queues]
        out += [{"id": "E1", "from": x, "to": [c], "via": via} for via in ("crm", "outlook")]
    return out


def _alphabet(cast: Cast, shapes: bool) -> list[Any]:
    everyone = [*cast.users, *cast.queues, *cast.outside]
    users = list(cast.users)
    return ["sync", {"outlook_start": cast.users[0]},
            {"reply": {"by": everyone, "email": "E1"}}, *([{"reply": {"by": everyone, "email": "E1", **RESHAPED}}]
                                                           if shapes else []),
            {"track": {"by": users, "via": ["app_for_outlook", "legacy_client"], "email": "E1"}},
            {"categorize": {"by": users, "email": "E1"}}, {"uncategorize": {"by": users, "email": "E1"}},
            {"untrack": {"by": users, "email": "E1"}},
            {"delete": {"by": users, "in": ["outlook", "crm"], "email": "E1"}}]


def tracked_starts(cast: Cast) -> list[list[Any]]:
    """Stories that start with an email the first user tracked by hand and a sync (the category, App for
    Outlook): what undoing it in Outlook does needs three own events, beyond a first message's story."""
    x = cast.users[0]
    out: list[list[Any]] = []
    for c in cast.outside:
        received = {"send": {"id": "E1", "from": c, "to": [x]}}
        out.append([received, {"categorize": {"email": "E1", "by": x}}, "sync"])
        out.append([received, {"track": {"email": "E1", "by": x, "via": "app_for_outlook"}}, "sync"])
    return out


def _undo(cast: Cast) -> list[Any]:
    users = list(cast.users)
    return ["sync", {"uncategorize": {"by": users, "email": "E1"}}, {"untrack": {"by": users, "email": "E1"}},
            {"delete": {"by": users, "in": ["outlook", "crm"], "email": "E1"}}]


def with_colleague(cast: Cast) -> Cast | None:
    """The cast with a colleague of the first user, when it has none (None when it has one): a story of its own
    asks whether another recipient's mailbox, with a broader filter, accepts an email the first user's does not
    (R54: an email is tracked if any resolved recipient's filter accepts it). Only its filter ranges, and nobody
    acts in that story but sync cycles: that lesson, at a few percent of the exploration, where the colleague in
    every story (`--with user`) costs twice."""
    if len(cast.users) > 1:
        return None
    taken = {*cast.users, *cast.queues, *cast.outside}
    pid = next(name for name in itertools.chain(["Y"], (f"Y{n}" for n in itertools.count(2))) if name not in taken)
    return replace(cast, users=(*cast.users, pid), added=(*cast.added, pid),
                   like={**cast.like, pid: cast.first})


def colleague_start(cast: Cast) -> list[Any]:
    """The colleague story's start: the first outside party emails the first user with the colleague on Cc."""
    return [{"send": {"id": "E1", "from": next(iter(cast.outside)), "to": [cast.users[0]], "cc": [cast.users[-1]]}}]


def stories_text(cast: Cast, model: Model | None = None, fixed: dict[Setting, Any] | None = None,
                 shapes: bool = False, colleague: bool = False) -> str:
    """The stories as a claim file (YAML's flow style is JSON); `fixed`: settings every story's scope fixes (what
    `diff` compares under; `gaps` leaves every setting free); `shapes`: replies of every shape (RESHAPED);
    `colleague`: a story with a colleague on Cc where the cast has none (`with_colleague`)."""
    starts = [([{"send": first}], _alphabet(cast, shapes), cast) for first in first_messages(cast)]
    starts += [(prefix, _undo(cast), cast) for prefix in tracked_starts(cast)]
    other = with_colleague(cast) if colleague else None
    if other is not None:
        starts.append((colleague_start(other), ["sync"], other))
    scope = {"scope": {"fixed": {f"{o}.{n}": v for (o, n), v in fixed.items()}}} if fixed else {}
    claims = []
    for n, (prefix, alphabet, who) in enumerate(starts, 1):
        claims.append({"id": f"story-{n}", "text": "every sequence after one start", **scope,
                       "universe": {"participants": who.participants(model), "messages": 2, "prefix": prefix},
                       "alphabet": alphabet, "reachable": "any(e.exists for e in emails)"})
    return json.dumps({"title": "the universe gaps explores", "claims": claims}, indent=1) + "\n"


def depth_of(story: Claim) -> int:
    """How deep a story is explored: its start (its prefix, or its first event), then `AFTER` events."""
    assert story.universe is not None
    return max(1, len(story.universe.prefix)) + AFTER  # without a prefix, its first event is its start


def stories(model: Model, cast: Cast, fixed: dict[Setting, Any] | None = None, shapes: bool = False,
            colleague: bool = False) -> list[Claim]:
    return claims_from_text(stories_text(cast, model, fixed, shapes, colleague), "<gaps universe>", model)
