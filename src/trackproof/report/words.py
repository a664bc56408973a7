"""Settings and conditions in plain words: a setting as Dynamics 365's pages name it (the vocabulary's `label`), with
where to find it (`where`, with its sources), and its values as the pages name them (`value_labels`).

What it is not: a second vocabulary. Every word comes from model/vocabulary.yaml; a setting or value the vocabulary
does not label is shown by its name. Why: a consultant reads "“Use correlation to track email conversations” is on",
not `org.use_correlation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec.ir import Attribute, Model

CONFIDENCE = {"H": "stated in Microsoft's documentation",
              "M": "older Microsoft documentation, Microsoft staff blogs, or inferred from two sources",
              "L": "a single non-Microsoft source, or inference"}


@dataclass(frozen=True)
class Setting:
    """A setting named in an answer: `org.use_correlation`, `X.filter`."""

    name: str  # as the JSON writes it
    owner: str  # "org", or the participant ("X")
    attribute: Attribute | None  # None when the vocabulary does not know it

    @property
    def label(self) -> str:
        return self.attribute.label if self.attribute and self.attribute.label else self.name

    @property
    def anchor(self) -> str:
        """The id of its row in the report's table of settings: one row per setting of the vocabulary (X's and
        Q's filter share it)."""
        key = f"{self.attribute.group}-{self.attribute.name}" if self.attribute else self.name
        return "setting-" + "".join(c if c.isalnum() else "-" for c in key.lower())

    @property
    def short(self) -> str:
        """The label without its closing parenthesis (the queues' name of a setting, its OrgDBOrgSetting name, its
        values): what a condition says; the table of settings gives the whole label."""
        return self.label.split(" (")[0]

    @property
    def words(self) -> str:
        """The setting in words: “label”, and whose it is when it belongs to a participant."""
        who = "" if self.owner == "org" else f"{self.owner}'s "
        return f"{who}“{self.short}”"


def setting(model: Model, name: str) -> Setting:
    """The setting a name of the JSON contract stands for (`org.x`, or `P.x` for a participant's mailbox or party
    setting)."""
    owner, _, field = name.partition(".")
    groups = model.vocabulary.groups
    if owner == "org":
        return Setting(name, owner, groups["org"].get(field))
    return Setting(name, owner, groups["mailbox"].get(field) or groups["party"].get(field))


def value_words(model: Model, s: Setting, value: Any) -> str:
    """A value as the settings pages name it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    typ = s.attribute.type if s.attribute else ""
    label = model.vocabulary.value_labels.get(typ, {}).get(str(value))
    return f"“{label}”" if label else str(value).replace("_", " ")


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def literal(model: Model, name: str, values: list[Any]) -> str:
    """One part of a condition: a setting and the values it takes."""
    s = setting(model, name)
    if values in ([True], [False]):
        return f"{s.words} is {value_words(model, s, values[0])}"
    return f"{s.words} is {_either([value_words(model, s, v) for v in values])}"


def assignment(model: Model, name: str, value: Any) -> str:
    s = setting(model, name)
    return f"{s.words} is {value_words(model, s, value)}"


def alternatives(model: Model, cubes: list[dict[str, list[Any]]] | None) -> list[str]:
    """A condition (holds_when cubes) as its alternatives in words, each a conjunction; [] when it never holds,
    ["always"] when it always does."""
    if cubes is None:
        return ["unknown (the solver gave up)"]
    if any(not cube for cube in cubes):
        return ["always"]
    return [" and ".join(literal(model, name, values) for name, values in cube.items()) for cube in cubes]


def condition(model: Model, cubes: list[dict[str, list[Any]]] | None) -> str:
    """A condition in one sentence."""
    parts = alternatives(model, cubes)
    if not parts:
        return "never"
    return parts[0] if len(parts) == 1 else "; or ".join(f"({i}) {p}" for i, p in enumerate(parts, 1))


def names_in(cubes: list[dict[str, list[Any]]] | None) -> list[str]:
    """The settings a condition names, in order of appearance."""
    seen: dict[str, None] = {}
    for cube in cubes or []:
        seen.update(dict.fromkeys(cube))
    return list(seen)


def verdict_words(verdict: str, cubes: list[dict[str, list[Any]]] | None) -> str:
    """A verdict as the consultant reads it: right, wrong, right only when ..."""
    if verdict == "proved":
        return "right"
    if verdict == "violated":
        return "wrong" if not cubes else "right only when …"
    if verdict == "vacuous":
        return "never happens (its premise cannot occur)"
    return "undecided (the solver gave up: not a proof)"


def verdict_mark(verdict: str, cubes: list[dict[str, list[Any]]] | None) -> str:
    """A symbol beside the words, so that no verdict is told by colour alone."""
    if verdict == "proved":
        return "✔"
    if verdict == "violated":
        return "✘" if not cubes else "◐"
    return "∅" if verdict == "vacuous" else "?"
