"""`trackproof gaps`: the behaviours a set of claims does not cover, found by exploring the model (DESIGN.md,
"Missed scenarios from exploration"), each in one sentence with the settings that matter, why, how sure the
documentation is, and a scenario `run` replays.

The universe is the claims' participants plus what the consultant adds (`--with user`, `--with queue`) or a
universe file (its universe claims are the stories): stories.py writes it; prove/reach.py explores every event
sequence of each story with every mailbox and org setting free; classes.py reads the classes and the scenario of
each; this module ranks them (closest to the claims' setups first, then shortest) and numbers them. Stories are
explored on up to `jobs` processes, each alone: every answer is chosen canonically, so the output does not depend
on `jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..prove.behaviours import replay
from ..simulate.outcomes import Outcome
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .classes import Lesson, StoryClasses, classes_of, setup_of
from .situations import own_bound, reading_fields, situation_of, whole
from .stories import AFTER, SETTLE, Cast, cast_of, depth_of, stories
from .words import action_why, correlation_why, group_of, outcome_text, setting_words, situation_text, why


@dataclass(frozen=True)
class Missed:
    id: str
    sentence: str
    situation: str
    outcome: dict[str, str]
    settings: dict[str, Any]  # changed from the setup
    setup: int  # 1-based
    why: str
    confidence: str
    rules: tuple[str, ...]
    scenario: str
    events: int
    group: str  # what the first message is: received, sent from Dynamics 365, sent from Outlook
    kept: bool = False  # the lesson is that its last action leaves the outcome as it was


@dataclass(frozen=True)
class Gaps:
    classes: int
    covered: int
    no_effect: int
    stories: int
    depth: int
    missed: list[Missed]
    setups: list[dict[str, Any]]


def setups_of(claims: list[Claim]) -> list[dict[Setting, Any]]:
    seen: list[dict[Setting, Any]] = []
    for c in claims:
        if setup_of(c) not in seen:
            seen.append(setup_of(c))
    return seen or [{}]


def find_gaps(model: Model, claims: list[Claim], extras: tuple[str, ...] = (), universe: list[Claim] | None = None,
              jobs: int = 1) -> Gaps:
    """The classes of every story no claim covers, ranked and worded (module docstring)."""
    from ..parallel import parallel_map

    cast = cast_of(claims, extras)
    told = universe if universe is not None else stories(model, cast, colleague=True)
    setups = setups_of(claims)

    def explore_one(index: int) -> StoryClasses:
        return _explore(model, told[index], claims, setups, universe is not None)

    results = list(parallel_map(explore_one, list(range(len(told))), jobs))
    lessons = [(n, lesson) for n, r in enumerate(results) for lesson in r.lessons
               if universe is not None or _teaches(told[n], cast, lesson)]
    lessons.sort(key=lambda item: (len(item[1].changed), len(item[1].situation), len(item[1].events), item[0],
                                   repr(item[1].situation), repr(item[1].outcome)))
    missed: list[Missed] = []
    said: set[Any] = set()
    kept: list[Lesson] = []
    for n, lesson in lessons:
        if lesson.moved is not None and lesson.usual and whole(lesson.usual) == lesson.outcome:
            continue  # its events end the same with the setting put back: not what the lesson is about
        if any(_told_before(lesson, earlier) for earlier in kept):
            continue
        entry = _missed(model, told[n], lesson, len(missed) + 1, len(setups))
        # a lesson once: classes told in the same words, or needing the same changes from the setup and told for
        # the same rule (the owner without a licence, an unknown address: whatever the email), are shown by the
        # first (closest, shortest); the same changes deciding by another rule are another lesson (a colleague on
        # Cc, "stored when X.filter = all", once hid "X deletes it in Outlook: not stored when X.filter = all")
        taught: Any = (tuple(sorted(entry.settings.items(), key=repr)), entry.why) if entry.settings \
            else entry.sentence
        if lesson.kept:  # that an action keeps the activity is one lesson, whatever the email
            taught = ("kept", lesson.situation[-1])
        elif lesson.moved is not None:  # one setting moved outside a claim's scope: once per way a message ends
            taught = ("moved", lesson.moved, repr(_changed_ends(lesson)))
        # and the same rule deciding the same outcomes (and more) under more changes than an earlier entry teaches
        # nothing more
        more = any(m.why == entry.why and m.settings and m.settings.items() <= entry.settings.items() and
                   _within(_ends(earlier), _ends(lesson)) for m, earlier in zip(missed, kept, strict=True))
        # and the same last action ending the messages the same way, whatever came before (for a message sent,
        # under the same changes: a reply lost to the incoming method and one lost to the owner's licence are two)
        action = lesson.situation[-1]
        changes = tuple(sorted(entry.settings.items(), key=repr)) if action[0] == "send" else ()
        last = ("last", action, repr(_ends(lesson)), changes)
        if entry.sentence not in said and taught not in said and last not in said and not more:
            said |= {entry.sentence, taught, last}
            missed.append(entry)
            kept.append(lesson)
    shown = [{f"{o}.{n}": v for (o, n), v in s.items()} for s in setups]
    return Gaps(sum(r.classes for r in results), sum(r.covered for r in results),
                sum(r.no_effect for r in results), len(told), AFTER, missed, shown)


def _teaches(story: Claim, cast: Cast, lesson: Lesson) -> bool:
    """Whether a lesson of a story is shown: in the story of a colleague the cast lacks (stories.with_colleague),
    only one where the colleague's settings change the outcome; what it shows besides, the first user's own
    stories show."""
    newcomers = set(story.scenario.participants) - {*cast.users, *cast.queues, *cast.outside}
    return not newcomers or any(owner in newcomers for owner, _ in lesson.changed)


def _ends(lesson: Lesson) -> list[tuple[Any, ...]]:
    """How the messages end, whichever they are."""
    return sorted((value for _, value in lesson.outcome), key=repr)


def _changed_ends(lesson: Lesson) -> list[tuple[Any, ...]]:
    """How the messages the lesson's changes changed end, stored, status and direction (all of them, when the
    setup cannot play its events)."""
    usual = whole(lesson.usual) if lesson.usual else ()
    return sorted((item[1][:3] for item in lesson.outcome if item not in usual), key=repr)  # stored, status, way


def _within(some: list[tuple[Any, ...]], every: list[tuple[Any, ...]]) -> bool:
    rest = list(every)
    for end in some:
        if end not in rest:
            return False
        rest.remove(end)
    return True


def _told_before(lesson: Lesson, earlier: Lesson) -> bool:
    """Whether an earlier entry already teaches this one (never one about what an action keeps): the same first
    message, its situation the beginning of
    this one's, the first message ending the same way, and its settings all among this one's (a reply after an
    email the owner's missing licence left untracked says nothing new of the licence)."""
    if lesson.kept or len(earlier.situation) >= len(lesson.situation) or \
            lesson.situation[:len(earlier.situation)] != earlier.situation:
        return False
    first = dict(earlier.outcome).get("E1")
    return first == dict(lesson.outcome).get("E1") and earlier.changed.items() <= lesson.changed.items()


def _explore(model: Model, story: Claim, claims: list[Claim], setups: list[dict[Setting, Any]],
             fresh: bool) -> StoryClasses:
    from ..prove.reach import explore
    from ..prove.sensitivity import default_readings
    from ..prove.setup import prepare

    setup = prepare(model, story)
    setup = replace(setup, base=(*setup.base, *default_readings(setup.space)))
    found = explore(model, reading_fields(model, story), setup, max_depth=depth_of(story), own=own_bound(story))
    if found.reason:
        from ..errors import TrackproofError

        raise TrackproofError("E408", f"the universe is too large to explore: {found.reason}", story.loc)
    return classes_of(model, story, setup, found, depth_of(story), claims, setups, fresh)


def _missed(model: Model, story: Claim, lesson: Lesson, number: int, setups: int) -> Missed:
    from ..simulate.scenario_file import scenario_text

    events = lesson.events
    situation = situation_text(events)
    outcome = "; ".join(outcome_text(k, o, events, lesson.kept, lesson.outcomes)
                        for k, o in sorted(lesson.outcomes.items()))
    when = f" when {setting_words(lesson.changed)}" if lesson.changed else f" under setup {lesson.setup + 1}" \
        if setups > 1 else ""
    sentence = f"{situation}: {outcome}{when}."
    levels = [model.rule(r).provenance.confidence for o in lesson.outcomes.values() for r in o.rules]
    confidence = min(levels, key="LMH".index) if levels else "H"
    fired = tuple(dict.fromkeys(s.rule for o in lesson.outcomes.values() for s in o.steps if s.rule))
    baseline = {**story.fixed}
    scenario = scenario_text(replace(story, text=situation), baseline, lesson.settings, lesson.outcomes,
                             title=situation, events=events, parent=True)
    shown = {k: ("not stored" if not o.stored else str(o.status)) for k, o in sorted(lesson.outcomes.items())}
    said = (action_why(model, lesson.outcomes, events) if lesson.kept else None) or \
        (correlation_why(model, lesson.outcomes, events, lesson.changed) if lesson.tie else None) or \
        why(model, lesson.outcomes, dict([lesson.moved]) if lesson.moved else lesson.changed, lesson.usual,
            lambda: _without_last(model, story, lesson))
    return Missed(f"G{number}", sentence, situation, shown, {f"{o}.{n}": v for (o, n), v in lesson.changed.items()},
                  lesson.setup + 1, said, confidence, fired, scenario,
                  len(situation_of(events)), group_of(events),
                  lesson.kept)


def _without_last(model: Model, story: Claim, lesson: Lesson) -> dict[str, Outcome] | None:
    """The outcomes of a lesson's events without its last own action, under its settings (what that action kept
    from happening), for an action on an email that exists (not one that sends a message); else None."""
    own = [e for e in lesson.events if e.kind not in SETTLE]
    if len(own) < 2 or own[-1].kind == "send":
        return None
    rest = [e for e in lesson.events if e is not own[-1]]
    return replay(model, story, lesson.settings, tuple(replace(e, number=i) for i, e in enumerate(rest, 1)))


def _values(settings: dict[str, Any]) -> str:
    from ..simulate.scenario_file import setting_text

    return ", ".join(setting_text(k, v) for k, v in settings.items())


def gaps_text(source: str, g: Gaps) -> str:
    lines = [f"Missed scenarios for {source}", ""]
    for i, setup in enumerate(g.setups, 1):
        lines.append(f"Setup {i}: {_values(setup) or 'the documented defaults'}")
    lines += ["", f"Explored: {g.stories} stories (each first message, and emails tracked by hand), every sequence "
              f"of up to {g.depth} events after each start with at most one own event after it (replies, tracking, "
              f"the category, untracking, deletion; sync cycles and Outlook starting between), every mailbox and org "
              f"setting free. {g.classes} behaviour classes: "
              f"{g.covered} covered by a claim, {g.no_effect} where the last action changes nothing, "
              f"{len(g.missed)} missed:"]
    for m in g.missed:
        lines += ["", f"{m.id}. {m.sentence}",
                  f"    Settings that matter: {_values(m.settings) or 'none'} "
                  f"(on top of setup {m.setup}); confidence {m.confidence}.",
                  f"    Why: {m.why}"]
    lines.append("")
    return "\n".join(lines)


def gaps_json(g: Gaps) -> dict[str, Any]:
    return {"classes": g.classes, "covered": g.covered, "no_effect": g.no_effect, "stories": g.stories,
            "depth": g.depth, "setups": g.setups,
            "missed": [{"id": m.id, "sentence": m.sentence, "situation": m.situation, "outcome": m.outcome,
                        "settings": m.settings, "setup": m.setup, "why": m.why, "confidence": m.confidence,
                        "rules": list(m.rules), "group": m.group, "kept": m.kept, "scenario": m.scenario}
                       for m in g.missed]}
