"""Interchangeable participants: the renamings of a universe claim's participants that change nothing about it, and
what the exploration (reach.py) and its verdict (behaviours.py) do with them (DESIGN.md: "interchangeable
participants merged"; ADR 017).

Two users of one kind, declared alike, whom the scope, the alphabet, the prefix and the property treat alike, are
interchangeable: swapping them everywhere (in the world's mail, in the settings, in the events) maps every behaviour
of the claim to another one, and a world to one that breaks the property under the swapped settings exactly when the
first breaks it under its own. Their settings are free and their own (`X.filter`, `Y.filter`), so a world is merged
with its swapped twin together with its settings renamed: the exploration keeps one world per orbit (the one whose
key comes first), each arrival at it with the renaming that took the world there, and the verdict closes its
regions under the renamings (a setting violates if some renaming of it violates at a world kept).

Only what is checked here makes two participants interchangeable, and only for what can be compared exactly:
- the same declaration (kind, settings written, members, owner, whether disabled; which kinds they may take), their
  addresses their own (an address two participants share decides by declaration order which one it resolves to);
- the scope: fixed settings and free settings map onto themselves, the `assume` expression does not name them;
- the universe's prefix and its alphabet map onto themselves (each entry's alternatives compared as sets: they only
  give the order in which events are tried);
- the property and its guard do not name them;
- no string of the world other than a participant id can equal their ids (a folder, a state, an email id, a
  setting's name): renaming a world replaces every such string (simulate/state.py `renamed`).
The simulator decides what mail does from the world's own data (the order recipients were written in, the order
sides were made in), never from the order participants were declared in, except where addresses are shared (ruled
out above). tests/test_symmetry.py holds the exploration with renamings to brute force with none: under every setting
of a reduced scope, the worlds brute force reaches are exactly the worlds kept, renamed back.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import z3

from ..simulate.mail import SIDES
from ..simulate.state import MailState, renamed_key, renamed_value
from ..spec.claims import Claim, Setting
from ..spec.expr import PARTY
from ..spec.ir import Expr, Model
from ..spec.scenario import Event
from ..spec.universe import Template, universe_emails
from .scope import Space
from .z3api import any_of

#: At most this many renamings are tried per world (five interchangeable participants give 120).
MAX_RENAMINGS = 120
Renaming = tuple[tuple[str, str], ...]  # sorted (from, to) pairs of the participants it moves; () is the identity


@dataclass(frozen=True)
class Symmetry:
    """The renamings of a claim's participants that leave it unchanged (the identity left out), and the groups of
    participants they permute."""

    renamings: tuple[Renaming, ...]
    groups: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.renamings)


NONE = Symmetry((), ())


def symmetry(model: Model, claim: Claim) -> Symmetry:
    """Every renaming of the claim's participants under which the claim is the same claim (module docstring)."""
    if claim.universe is None or claim.property is None:
        return NONE
    parts = claim.scenario.participants
    addresses = Counter(p.address for p in parts.values())
    classes: dict[Any, list[str]] = {}
    for pid, p in parts.items():
        if addresses[p.address] > 1:
            continue
        written = tuple(sorted(p.settings.items(), key=lambda item: item[0]))
        signature = (p.kind, written, p.disabled, claim.kinds.get(pid), p.owner is None, len(p.members))
        classes.setdefault(signature, []).append(pid)
    movable = [tuple(c) for c in classes.values() if len(c) > 1]
    taken = _taken(model, claim)
    movable = [c for c in movable if not taken & set(c)]
    if not movable or permutations(movable) > MAX_RENAMINGS:
        return NONE
    found: list[Renaming] = []
    for images in itertools.product(*(itertools.permutations(c) for c in movable)):
        names = {a: b for c, image in zip(movable, images, strict=True) for a, b in zip(c, image, strict=True)
                 if a != b}
        if names and _invariant(claim, names):
            found.append(tuple(sorted(names.items())))
    groups = tuple(sorted({tuple(sorted({p for r in found for pair in r for p in pair if p in c})) for c in movable
                           if any(a in c for r in found for a, _ in r)}))
    return Symmetry(tuple(found), groups)


def permutations(groups: list[tuple[str, ...]] | tuple[tuple[str, ...], ...]) -> int:
    """How many ways there are to permute each group within itself, the identity included."""
    if any(len(g) > 6 for g in groups):  # 7! = 5,040 is past the limit: no need to count the factorial of many
        return MAX_RENAMINGS + 1
    return math.prod(math.factorial(len(g)) for g in groups)


def _taken(model: Model, claim: Claim) -> set[str]:
    """Participant ids that some other string of a world may equal (renaming them would rename that too)."""
    vocab = model.vocabulary
    words: set[str] = {"org", "reading", "none", *SIDES, "sender", "to", "cc", "bcc", "dl"}
    words.update(str(v) for values in vocab.enums.values() for v in values)
    words.update(str(n) for attrs in vocab.groups.values() for n in attrs)
    words.update(model.states)
    assert claim.universe is not None
    words.update(universe_emails(claim.universe))
    return words & set(claim.scenario.participants)


def _names(expr: Expr | None) -> set[str]:
    if expr is None:
        return set()
    return {str(e.value) for e in expr.walk() if e.kind in ("var", "const") and isinstance(e.value, str)}


def _invariant(claim: Claim, names: dict[str, str]) -> bool:
    """Whether renaming by `names` leaves the claim as it is."""
    universe, prop, parts = claim.universe, claim.property, claim.scenario.participants
    assert universe is not None and prop is not None
    for pid, p in parts.items():
        image = parts[names.get(pid, pid)]
        if renamed_value(p.members, names) != image.members or renamed_value(p.owner, names) != image.owner:
            return False
    if {(names.get(o, o), n): renamed_value(v, names) for (o, n), v in claim.fixed.items()} != claim.fixed:
        return False
    if claim.free is not None and {(names.get(o, o), n) for o, n in claim.free} != set(claim.free):
        return False
    if set(names) & (_names(claim.assume) | _names(claim.conclusion) | _names(prop.when)):
        return False
    if any(_params(e.params, names) != e.params for e in universe.prefix):
        return False
    return Counter(_template(t, names) for t in universe.alphabet) == Counter(_template(t, {})
                                                                              for t in universe.alphabet)


def _params(params: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """An event's parameters renamed: participants in its values, and in a `set` event's keys (`X.filter`)."""
    out = {}
    for k, v in renamed_value(params, names, keys=False).items():  # keys are parameter names
        owner, dot, name = k.partition(".")
        out[f"{names.get(owner, owner)}.{name}" if dot else k] = v
    return out


def _template(t: Template, names: dict[str, str]) -> Any:
    choices = tuple(sorted((k, frozenset(renamed_value(v, names) for v in vs)) for k, vs in t.choices.items()))
    return t.kind, choices, t.emails, t.excluded


# What the exploration does with a symmetry


def canonical(state: MailState, where: tuple[Any, ...], omit: frozenset[str],
              sym: Symmetry) -> tuple[Renaming, tuple[Any, ...]]:
    """The renaming that takes a world (`state`, whose key is `where`) to the one its orbit keeps, and that world's
    key: the least key by its text, the identity (`()`) where it is among the least."""
    best: Renaming = ()
    best_text, best_key = repr(where), where
    for r in sym.renamings:
        found = renamed_key(state, dict(r), omit)
        text = repr(found)
        if text < best_text:
            best, best_text, best_key = r, text, found
    return best, best_key


def inverse(r: Renaming) -> Renaming:
    return tuple(sorted((b, a) for a, b in r))


def then(first: Renaming, second: Renaming) -> Renaming:
    """The renaming `second` after `first`."""
    a, b = dict(first), dict(second)
    moved = {p: b.get(a.get(p, p), a.get(p, p)) for p in {*a, *b}}
    return tuple(sorted((p, q) for p, q in moved.items() if p != q))


def formula(space: Space, f: z3.BoolRef, r: Renaming) -> z3.BoolRef:
    """`f` over the settings renamed by `r`: true of the renamed settings where `f` is true of the settings."""
    if not r:
        return f
    names = dict(r)
    pairs = [(var, space.vars[(names[o], n)]) for (o, n), var in space.vars.items() if o in names]
    consts = space.enums[PARTY][1]
    pairs += [(consts[a], consts[b]) for a, b in r]
    return z3.substitute(f, *pairs)


def closed(space: Space, f: z3.BoolRef, sym: Symmetry) -> z3.BoolRef:
    """The settings some renaming takes into `f`: a region of the worlds kept, closed over their orbits."""
    return any_of([f, *(formula(space, f, r) for r in sym.renamings)]) if sym else f


def settings(values: dict[Setting, Any], r: Renaming) -> dict[Setting, Any]:
    names = dict(r)
    return {(names.get(o, o), n): v for (o, n), v in values.items()}


def event(e: Event, r: Renaming) -> Event:
    return Event(e.number, e.kind, _params(e.params, dict(r)), e.locs, e.loc) if r else e

