"""A claim's scope: the settings it ranges over as Z3 variables, their defaults, and the constraints between them.

Variables, their atoms
`setting == value` and the enumeration sorts are made once per process and shared by every claim, so that `X.filter`
is the same variable in all of them (consistency asks several claims' regions together).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import z3

from ..spec.claims import Claim, Setting
from ..spec.expr import BOOL, PARTY
from ..spec.ir import Attribute, Model
from .z3api import any_of, declaration, enum_sort, eq, model_value, neg

NONE = "!none"

_VARS: dict[tuple[str, int], z3.ExprRef] = {}  # (name, sort id) -> the setting's variable
_DECLS: dict[int, Any] = {}  # id of a variable in _VARS -> its Z3 declaration (Space.assigned)
_ATOMS: dict[tuple[int, Any], z3.BoolRef] = {}  # (id of a variable in _VARS, value) -> "variable == value"


class Space:
    """The free settings of one claim as Z3 variables, their defaults, and the constraints between them; also what
    the claim's runs found out about them (`read`, `constrained`) and the prover's memo tables for the claim."""

    def __init__(self, model: Model, claim: Claim, emails: list[str]) -> None:
        self.model = model
        self.claim = claim
        self.enums: dict[str, tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]] = {}
        for name, values in model.vocabulary.enums.items():
            self.enums[name] = enum_sort(name, values)
        self.enums[PARTY] = enum_sort("party", (*claim.scenario.participants, NONE))
        self.enums["email"] = enum_sort("email", (*emails, NONE))
        self.vars: dict[Setting, z3.ExprRef] = {}
        self.attrs: dict[Setting, Attribute] = {}
        self.defaults: dict[Setting, Any] = {}
        self.background: list[z3.BoolRef] = []
        self._atoms: dict[tuple[Setting, Any], z3.BoolRef] = {}
        self._consts: dict[tuple[str, Any], z3.ExprRef] = {}
        self._declare()
        self.names = {name for _, name in self.vars}
        self.org_names = {name for owner, name in self.vars if owner == "org"}
        self.reading_names = {name for owner, name in self.vars if owner == "reading"}
        self.symbolic_memo: dict[int, bool] = {}  # expression id -> may read a free setting (Builder.symbolic)
        self.read: set[Setting] = set()  # the settings some run's path condition mentions
        self.constrained: set[Setting] = set()  # the settings the scope's constraints mention
        self._last_model: tuple[tuple[tuple[Setting, Any], ...], z3.ModelRef] | None = None  # holds()

    def _candidates(self) -> list[tuple[Setting, Attribute]]:
        vocab = self.model.vocabulary
        out: list[tuple[Setting, Attribute]] = [(("org", n), a) for n, a in vocab.groups["org"].items()]
        # The readings of the disputed points (model/readings.yaml) range like settings: the verdict is decided
        # under the default readings, and says which verdicts another reading would change (verdict.py).
        out += [(("reading", n), a) for n, a in vocab.groups.get("reading", {}).items()]
        for pid, p in self.claim.scenario.participants.items():
            if p.kind in ("user", "queue"):
                out += [((pid, n), a) for n, a in vocab.groups["mailbox"].items()
                        if not (a.users_only and p.kind == "queue")]
            out += [((pid, n), a) for n, a in vocab.groups["party"].items() if n != "kind"]
        return out

    def _declare(self) -> None:
        claim = self.claim
        wanted = set(claim.free) if claim.free is not None else None
        for setting, attr in self._candidates():
            if setting in claim.fixed or (wanted is not None and setting not in wanted):
                continue
            self.vars[setting] = self._var(setting, attr.type)
            self.attrs[setting] = attr
            self.defaults[setting] = self.default(setting, attr)
        for pid, choices in claim.kinds.items():
            var = self._var((pid, "kind"), "kind")
            self.vars[(pid, "kind")] = var
            self.attrs[(pid, "kind")] = self.model.vocabulary.groups["party"]["kind"]
            self.defaults[(pid, "kind")] = choices[0]
            self.background.append(any_of([eq(var, self.const(k, "kind")) for k in choices]))

    def _var(self, setting: Setting, typ: str) -> z3.ExprRef:
        """The setting's Z3 variable, shared by every claim of the process whose setting has this name and sort."""
        name = f"{setting[0]}.{setting[1]}"
        sort = z3.BoolSort() if typ == BOOL else self.enums[typ][0]
        key = (name, sort.get_id())
        found = _VARS.get(key)
        if found is None:
            found = _VARS[key] = z3.Bool(name) if typ == BOOL else z3.Const(name, sort)
            _DECLS[id(found)] = declaration(found)
        return found

    def default(self, setting: Setting, attr: Attribute) -> Any:
        owner = setting[0]
        participant = self.claim.scenario.participants.get(owner)
        return attr.default_for(participant.kind if participant is not None else None)

    def const(self, value: Any, typ: str) -> z3.ExprRef:
        """The Z3 value of `value` of type `typ` (a bool, an enumeration value, a party or an email, or none)."""
        key = (typ, value if not isinstance(value, list) else tuple(value))
        found = self._consts.get(key)
        if found is None:
            found = self._consts[key] = self._const(value, typ)
        return found

    def _const(self, value: Any, typ: str) -> z3.ExprRef:
        if typ == BOOL:
            return z3.BoolVal(bool(value))
        if typ in ("party", "email"):
            if isinstance(value, tuple):
                value = value[0]
            return self.enums[typ][1][NONE if value is None else str(value)]
        consts = self.enums[typ][1]
        return consts[str(value)] if value is not None else consts.get("none", next(iter(consts.values())))

    def equals(self, setting: Setting, value: Any) -> z3.BoolRef:
        """`setting == value` as a Z3 atom, built once."""
        key = (setting, value)
        atom = self._atoms.get(key)
        if atom is None:
            var = self.vars[setting]
            typ = self.attrs[setting].type
            shared = (id(var), value)  # the variable is kept in _VARS: its id is not reused
            atom = _ATOMS.get(shared)
            if atom is None:
                atom = (var if value else neg(var)) if typ == BOOL else eq(var, self.const(value, typ))
                _ATOMS[shared] = atom
            self._atoms[key] = atom
        return atom

    def assigned(self, model: z3.ModelRef, settings: Iterable[Setting]) -> dict[Setting, Any]:
        """The values `model` gives `settings` (a bool, or an enum value's name); a setting it leaves open is absent.
        Read one setting at a time: a model holds more than the settings asked for."""
        out: dict[Setting, Any] = {}
        for setting in settings:
            value = model_value(model, _DECLS[id(self.vars[setting])])
            if value is not None:
                out[setting] = value
        return out

    def substituted(self, formula: z3.BoolRef, settings: dict[Setting, Any]) -> z3.BoolRef:
        """`formula` with each of `settings` that is a variable here put to its value."""
        pairs = [(self.vars[s], self.const(v, self.attrs[s].type)) for s, v in settings.items() if s in self.vars]
        return z3.substitute(formula, *pairs) if pairs else formula

    def holds(self, formula: z3.BoolRef, settings: dict[Setting, Any]) -> bool:
        """Whether `formula` is true once `settings` are put in (every variable it reads among them). Evaluated in
        a Z3 model of the settings, which Z3 evaluates without building the substituted formula (substituting and
        simplifying was a quarter of `gaps`, asking one class's members in turn under the same settings); the
        model of the last settings asked about is kept for the next question."""
        key = tuple(sorted(((s, v) for s, v in settings.items() if s in self.vars), key=repr))
        if self._last_model is None or self._last_model[0] != key:
            model = z3.Model()
            for s, v in key:
                model.update_value(self.vars[s], self.const(v, self.attrs[s].type))
            self._last_model = (key, model)
        return bool(z3.is_true(self._last_model[1].eval(formula)))

    def label(self, setting: Setting) -> str:
        return f"{setting[0]}.{setting[1]}"


