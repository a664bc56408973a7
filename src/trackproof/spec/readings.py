"""model/readings.yaml: the points where Microsoft's documentation is unsure or disagrees, each with its readings.

A reading is a named answer to one disputed question ("what does turning off Use correlation block?"), with the
sources that support it, their confidence and a sentence. Each disputed point has a default reading (the best
supported one) and alternatives. Expressions read the chosen reading as `reading.<id>` (`reading.R91 ==
'gates_filters'`), type-checked as an enumeration of the point's choices; a scenario chooses with `readings:
{R91: gates_filters}`, a claim with `scope: {readings: {...}}`. So the model says where the documentation leaves a
rule open instead of choosing silently, and every outcome can say which readings it rests on.

This module loads and checks the file and adds the readings to the vocabulary; it decides nothing itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import Loc, TrackproofError
from .ir import Attribute, DocumentedRule, Reading, ReadingChoice, Source, Vocabulary
from .yamlsrc import Mapping, as_list, check_keys, expect_mapping

#: The object type (and scope name) of the readings in expressions: `reading.R91`.
READING = "reading"
LEVEL = {"H": 3, "M": 2, "L": 1}


def enum_name(point: str) -> str:
    """The enumeration type of one disputed point's choices."""
    return f"{READING}.{point}"


def _ceiling(rulebook: dict[str, DocumentedRule], nums: list[str]) -> int:
    return min(max(LEVEL[c] for c in rulebook[n].levels or "L") for n in nums)


def _choice(name: str, raw: Any, loc: Loc, sources: dict[str, Source], ceiling: int, what: str) -> ReadingChoice:
    spec = expect_mapping(raw, loc, f"the reading '{name}' of {what}")
    check_keys(spec, {"says", "sources", "confidence"}, {"says", "sources", "confidence"},
               f"the reading '{name}' of {what}")
    keys, key_locs = as_list(spec["sources"], spec.locs["sources"])
    if not keys:
        raise TrackproofError("E301", f"the reading '{name}' of {what} has no source", spec.locs["sources"])
    for key, key_loc in zip(keys, key_locs, strict=True):
        if key not in sources:
            raise TrackproofError("E302", f"unknown source key '{key}'", key_loc,
                                  "keys are listed in model/sources.yaml")
    conf = spec["confidence"]
    if conf not in LEVEL:
        raise TrackproofError("E306", "confidence is H, M or L", spec.locs["confidence"])
    if LEVEL[conf] > ceiling:
        raise TrackproofError("E306", f"the reading '{name}' of {what} claims confidence {conf}, above what its "
                              f"rules are documented at ({'HML'[3 - ceiling]})", spec.locs["confidence"])
    return ReadingChoice(name, " ".join(str(spec["says"]).split()), tuple(str(k) for k in keys), str(conf), loc)


def _reading(point: str, raw: Any, loc: Loc, sources: dict[str, Source],
             rulebook: dict[str, DocumentedRule]) -> Reading:
    what = f"disputed point '{point}'"
    spec = expect_mapping(raw, loc, f"the {what}")
    check_keys(spec, {"question", "rules", "default", "choices"}, {"question", "rules", "default", "choices"},
               f"the {what}")
    nums, num_locs = as_list(spec["rules"], spec.locs["rules"])
    if not nums:
        raise TrackproofError("E302", f"the {what} names no RULES.md rule", spec.locs["rules"])
    for num, num_loc in zip(nums, num_locs, strict=True):
        if num not in rulebook:
            raise TrackproofError("E302", f"unknown rule number '{num}'", num_loc,
                                  "rules are listed in model/rulebook.yaml")
    raw_choices = expect_mapping(spec["choices"], spec.locs["choices"], f"the choices of the {what}")
    if len(raw_choices) < 2:
        raise TrackproofError("E104", f"the {what} needs at least two readings", spec.locs["choices"])
    ceiling = _ceiling(rulebook, [str(n) for n in nums])
    choices = {str(name): _choice(str(name), body, raw_choices.locs[name], sources, ceiling, what)
               for name, body in raw_choices.items()}
    default = spec["default"]
    if default not in choices:
        raise TrackproofError("E207", f"default '{default}' is not one of the readings of the {what}",
                              spec.locs["default"], "readings: " + ", ".join(choices))
    return Reading(point, " ".join(str(spec["question"]).split()), tuple(str(n) for n in nums), str(default),
                   choices, loc)


def load_readings(doc: Mapping, sources: dict[str, Source], rulebook: dict[str, DocumentedRule]) -> dict[str, Reading]:
    check_keys(doc, {"readings"}, {"readings"}, "readings.yaml")
    raw = expect_mapping(doc["readings"], doc.locs["readings"], "readings")
    out: dict[str, Reading] = {}
    for point, body in raw.items():
        if not str(point).replace("_", "").isalnum():
            raise TrackproofError("E402", f"a disputed point's id is letters, digits or _: '{point}'",
                                  raw.key_locs[point])
        out[str(point)] = _reading(str(point), body, raw.locs[point], sources, rulebook)
    return out


def with_readings(vocab: Vocabulary, readings: dict[str, Reading]) -> Vocabulary:
    """The vocabulary with `reading.<id>` readable in expressions: one enumeration and one attribute per point."""
    enums = dict(vocab.enums)
    attrs: dict[str, Attribute] = {}
    for point, r in readings.items():
        enums[enum_name(point)] = tuple(r.choices)
        attrs[point] = Attribute(point, enum_name(point), READING, r.loc, default=r.default, label=r.question,
                                 rules=r.rules, default_confidence=r.choices[r.default].confidence)
    return replace(vocab, enums=enums, attributes={**vocab.attributes, READING: attrs},
                   groups={**vocab.groups, READING: attrs}, scope={**vocab.scope, READING: READING})


def parse_choices(readings: dict[str, Reading], raw: Any, loc: Loc, what: str) -> dict[str, str]:
    """A `readings: {R91: gates_filters}` mapping of a scenario or a claim's scope, checked."""
    spec = expect_mapping(raw if raw is not None else Mapping(), loc, what)
    out: dict[str, str] = {}
    for point, choice in spec.items():
        reading = readings.get(str(point))
        if reading is None:
            raise TrackproofError("E402", f"unknown disputed point '{point}'", spec.key_locs[point],
                                  "points with readings: " + ", ".join(readings))
        if choice not in reading.choices:
            raise TrackproofError("E207", f"'{choice}' is not a reading of {point}", spec.locs[point],
                                  "readings: " + ", ".join(reading.choices))
        out[str(point)] = str(choice)
    return out
