"""The expression language of guards, effects, definitions and (later) claims.

A Python-like subset, parsed with `ast` and checked against an allow-list of node types: boolean logic, comparison,
membership in a set of values, `any(... for r in coll)`, `all(...)`, `first(r for r in coll if ...)`,
`select(r for r in coll if ...)` (the members of a set of parties that satisfy a condition), `coalesce(a, b)`,
`a if c else b`, and calls of the model's named definitions. Nothing is ever `eval`ed: the checked tree is compiled
by simulate/evaluate.py (Python closures) and by prove/terms.py (Z3 terms). Every node keeps its location.

Expressions are bounded before anything recursive reads them (E208): at most MAX_LENGTH characters (checked before
Python's parser sees the text, which a 10,000-deep one makes raise MemoryError), at most MAX_DEPTH levels of syntax,
and, for the model's own expressions (the loader gives each definition's reach), at most MAX_REACH levels once the
bodies of the definitions it calls are counted where they are called (the simulator and the prover walk an
expression recursively, through those bodies; a claim's conclusion, at most MAX_DEPTH deep, adds that to a reach
already bounded): the shipped model's expressions are at most 285 characters, 11 levels of syntax and 23 levels with
the definitions they call. How many any/all/first/select nest within one another is bounded by spec/binders.py,
once every definition is known.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import Loc, TrackproofError
from .ir import BOOL, EMAIL, NULL, PARTY, PARTY_SET, REF_TYPES, STR, Expr, Vocabulary

if TYPE_CHECKING:
    from .yamlsrc import Origin

BUILTINS = ("any", "all", "first", "select", "coalesce")
MAX_LENGTH = 2_000
MAX_DEPTH = 40
MAX_REACH = 96
__all__ = ["BOOL", "BUILTINS", "EMAIL", "MAX_DEPTH", "MAX_LENGTH", "MAX_REACH", "NULL", "PARTY", "PARTY_SET",
           "REF_TYPES", "STR", "Expr", "calls", "conjuncts", "parse", "reach"]


class _Ctx:
    """What the checker needs: the vocabulary, the definitions' signatures, and the names in scope."""

    def __init__(self, vocab: Vocabulary, signatures: dict[str, tuple[tuple[str, ...], str]],
                 names: dict[str, str], source: str, origin: Origin | None, fallback: Loc) -> None:
        self.vocab = vocab
        self.signatures = signatures
        self.names = names
        self.source = source
        self.origin = origin
        self.fallback = fallback
        self.lines = source.split("\n")
        self.starts = [0]  # offset of each line of the source
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def _offset(self, line: int, col: int) -> int:
        """The offset in the source of ast's (line, column): ast columns count UTF-8 bytes, not characters."""
        at = min(line, len(self.starts)) - 1
        text = self.lines[at] if at < len(self.lines) else ""
        return self.starts[at] + len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def byte_column(self, line: int, col: int) -> int:
        """ast's column (UTF-8 bytes) of character column `col` of `line`, as a SyntaxError gives it."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text[:col].encode("utf-8"))

    def loc(self, node: ast.AST) -> Loc:
        if self.origin is None:
            return self.fallback
        return self.origin.loc_at(self._offset(getattr(node, "lineno", 1), getattr(node, "col_offset", 0)))

    def text(self, node: ast.AST) -> str:
        end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_line is None or end_col is None:
            return ast.unparse(node)
        start = self._offset(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        return " ".join(self.source[start:self._offset(end_line, end_col)].split())

    def err(self, code: str, message: str, node: ast.AST, hint: str = "") -> TrackproofError:
        return TrackproofError(code, message, self.loc(node), hint)


def parse(source: str, vocab: Vocabulary, signatures: dict[str, tuple[tuple[str, ...], str]],
          names: dict[str, str], origin: Origin | None, fallback: Loc,
          reach_of: Mapping[str, int] | None = None) -> Expr:
    """Parse and type-check `source` with `names` (name -> type) in scope. `reach_of`: how deep each definition it
    may call reaches (`reach`), to bound the expression with them (MAX_REACH); None: those bodies are not counted."""
    if not isinstance(source, str):
        raise TrackproofError("E104", "an expression must be written as text", fallback)
    if len(source) > MAX_LENGTH:
        raise TrackproofError("E208", f"expression longer than {MAX_LENGTH:,} characters", fallback,
                              "name its parts as definitions (model/definitions.yaml)")
    ctx = _Ctx(vocab, signatures, names, source, origin, fallback)
    try:
        tree = ast.parse(_keyword_fields(source), mode="eval")
    except (SyntaxError, MemoryError, RecursionError) as exc:  # the last two: not within MAX_LENGTH, kept safe
        line, col = (exc.lineno or 1, (exc.offset or 1) - 1) if isinstance(exc, SyntaxError) else (1, 0)
        fake = ast.Constant(value=None, lineno=line, col_offset=ctx.byte_column(line, col))
        msg = exc.msg if isinstance(exc, SyntaxError) else "too deeply nested"
        raise ctx.err("E201", f"expression syntax error: {msg}", fake) from None
    deep = _too_deep(tree.body)
    if deep is not None:
        raise ctx.err("E208", f"expression nested more than {MAX_DEPTH} levels deep", deep,
                      "name its parts as definitions (model/definitions.yaml)")
    checked = _check(tree.body, ctx, names)
    if reach_of is not None and reach(checked, reach_of) > MAX_REACH:
        raise TrackproofError("E208", f"expression nested more than {MAX_REACH} levels deep with the definitions "
                              "it calls", checked.loc, "call fewer definitions within one another")
    return checked


#: A field named by a Python keyword (an email's `from`): written `E1.from`, parsed as another name of the same
#: length (so that every location stays right), and read back under its own name.
_KEYWORD_FIELDS = {"from": "From"}
_SPELLED = {v: k for k, v in _KEYWORD_FIELDS.items()}
_KEYWORD_ATTR = re.compile(r"""('[^']*'|"[^"]*")|\.(from)\b""")


def _keyword_fields(source: str) -> str:
    """`source` with each `.from` (outside quotes) spelled so that Python's parser takes it for a field."""
    return _KEYWORD_ATTR.sub(lambda m: m.group(1) or "." + _KEYWORD_FIELDS[m.group(2)], source)


def _too_deep(tree: ast.AST) -> ast.AST | None:
    """The first node nested deeper than MAX_DEPTH in `tree` (walked without recursion), if any."""
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH:
            return node
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return None


def reach(e: Expr, reach_of: Mapping[str, int]) -> int:
    """The levels of nodes an evaluation of `e` goes through, the bodies of the definitions it calls included
    (`reach_of`: each definition's own reach), walked without recursion."""
    deepest, stack = 0, [(e, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level + (reach_of.get(str(node.value), 0) if node.kind == "call" else 0))
        stack.extend((arg, level + 1) for arg in node.args)
    return deepest


def _forbidden(node: ast.AST, ctx: _Ctx, what: str) -> TrackproofError:
    return ctx.err("E202", f"forbidden construct in expression: {what}", node,
                   "expressions allow and/or/not, ==, !=, in, not in, value sets, any/all/first/select/coalesce, "
                   "'a if c else b' and the model's definitions")


def _check(node: ast.expr, ctx: _Ctx, names: dict[str, str]) -> Expr:
    loc, text = ctx.loc(node), ctx.text(node)
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None:
            return Expr("const", NULL, loc, text, None)
        if isinstance(value, bool):
            return Expr("const", BOOL, loc, text, value)
        if isinstance(value, str):
            return Expr("const", STR, loc, text, value)
        raise _forbidden(node, ctx, f"the literal {value!r} (only strings, True, False and None)")
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _forbidden(node, ctx, f"the name '{node.id}'")
        if node.id not in names:
            raise ctx.err("E203", f"unknown name '{node.id}'", node,
                          "names in scope: " + ", ".join(sorted(names)))
        return Expr("var", names[node.id], loc, text, node.id)
    if isinstance(node, ast.Attribute):
        return _attribute(node, ctx, names, loc, text)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.Not):
            raise _forbidden(node, ctx, "arithmetic")
        arg = _expect(_check(node.operand, ctx, names), BOOL, ctx, node.operand)
        return Expr("not", BOOL, loc, text, args=(arg,))
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        args = tuple(_expect(_check(v, ctx, names), BOOL, ctx, v) for v in node.values)
        return Expr(op, BOOL, loc, text, args=args)
    if isinstance(node, ast.Compare):
        return _compare(node, ctx, names, loc, text)
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        values = []
        for elt in node.elts:
            if not (isinstance(elt, ast.Constant) and isinstance(elt.value, str)):
                raise _forbidden(elt, ctx, "a value set may hold only quoted values")
            values.append(elt.value)
        return Expr("set", "set[str]", loc, text, tuple(values))
    if isinstance(node, ast.IfExp):
        cond = _expect(_check(node.test, ctx, names), BOOL, ctx, node.test)
        then, other = _check(node.body, ctx, names), _check(node.orelse, ctx, names)
        typ = _unify(then.type, other.type)
        if typ is None:
            raise ctx.err("E204", f"the branches of 'if' have different types ({then.type}, {other.type})", node)
        return Expr("if", typ, loc, text, args=(cond, then, other))
    if isinstance(node, ast.Call):
        return _call(node, ctx, names, loc, text)
    raise _forbidden(node, ctx, type(node).__name__)


def _attribute(node: ast.Attribute, ctx: _Ctx, names: dict[str, str], loc: Loc, text: str) -> Expr:
    if node.attr.startswith("_"):
        raise _forbidden(node, ctx, f"the attribute '{node.attr}'")
    attr = _SPELLED.get(node.attr, node.attr)
    if not isinstance(node.value, (ast.Name, ast.Attribute, ast.Call)):
        raise _forbidden(node, ctx, "attribute access on a literal")
    obj = _check(node.value, ctx, names)
    attrs = ctx.vocab.attributes.get(obj.type)
    if attrs is None:
        raise ctx.err("E204", f"'{obj.text}' is a {obj.type}, which has no fields", node)
    if attr not in attrs:
        raise ctx.err("E203", f"unknown field '{attr}' of {obj.type} '{obj.text}'", node,
                      "known fields: " + ", ".join(sorted(attrs)))
    return Expr("attr", attrs[attr].type, loc, text, attr, (obj,), owner=obj.type)


def _unify(a: str, b: str) -> str | None:
    if a == b:
        return a
    if a == NULL and b in REF_TYPES:
        return b
    if b == NULL and a in REF_TYPES:
        return a
    return None


def _expect(e: Expr, typ: str, ctx: _Ctx, node: ast.AST) -> Expr:
    if e.type != typ:
        raise ctx.err("E204", f"'{e.text}' is a {e.type}, but a {typ} is needed here", node)
    return e


def _enum_value(e: Expr, enum: str, ctx: _Ctx, node: ast.AST) -> None:
    values = ctx.vocab.enums[enum]
    found = e.value if e.kind == "set" and isinstance(e.value, tuple) else (e.value,)
    for v in found:
        if v not in values:
            raise ctx.err("E207", f"'{v}' is not a value of {enum}", node, "values: " + ", ".join(values))


def _compare(node: ast.Compare, ctx: _Ctx, names: dict[str, str], loc: Loc, text: str) -> Expr:
    if len(node.ops) != 1:
        raise _forbidden(node, ctx, "chained comparison")
    op_node = node.ops[0]
    ops = {ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in"}
    op = ops.get(type(op_node))
    if op is None:
        raise _forbidden(node, ctx, "ordering comparison (<, >, is)")
    left = _check(node.left, ctx, names)
    right = _check(node.comparators[0], ctx, names)
    if op in ("==", "!="):
        if left.type in ctx.vocab.enums and right.kind == "const" and right.type == STR:
            _enum_value(right, left.type, ctx, node.comparators[0])
        elif right.type in ctx.vocab.enums and left.kind == "const" and left.type == STR:
            _enum_value(left, right.type, ctx, node.left)
        elif _unify(left.type, right.type) is None or left.type == STR:
            raise ctx.err("E204", f"cannot compare a {left.type} with a {right.type}", node)
        return Expr("cmp", BOOL, loc, text, op, (left, right))
    if right.kind == "set":
        if left.type not in ctx.vocab.enums:
            raise ctx.err("E204", f"'{left.text}' is a {left.type}; only enumerated values are tested with 'in'", node)
        _enum_value(right, left.type, ctx, node.comparators[0])
        return Expr("cmp", BOOL, loc, text, op, (left, right))
    if right.type == PARTY_SET and left.type == PARTY:
        return Expr("cmp", BOOL, loc, text, op, (left, right))
    raise ctx.err("E204", f"'in' needs a value set or a set of parties on the right, not a {right.type}", node)


def _generator(node: ast.Call, ctx: _Ctx, names: dict[str, str], want_if: bool) -> tuple[str, Expr, Expr | None, Expr]:
    name = node.func.id  # type: ignore[attr-defined]
    if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.GeneratorExp):
        raise ctx.err("E206", f"{name}() takes one generator: {name}(<condition> for r in <collection>)", node)
    gen = node.args[0]
    if len(gen.generators) != 1:
        raise _forbidden(gen, ctx, "nested generators")
    comp = gen.generators[0]
    if not isinstance(comp.target, ast.Name) or comp.is_async:
        raise _forbidden(comp.target, ctx, "the loop variable must be one name")
    var = comp.target.id
    if var.startswith("_") or var in names:
        raise ctx.err("E202", f"the loop variable '{var}' hides a name in scope", comp.target)
    coll = _check(comp.iter, ctx, names)
    if not (coll.type.startswith("set[") and coll.type.endswith("]")):
        raise ctx.err("E204", f"'{coll.text}' is a {coll.type}; {name}() ranges over a set (of parties or emails)",
                      comp.iter)
    inner = dict(names)
    inner[var] = coll.type[4:-1]
    cond: Expr | None = None
    if comp.ifs:
        if not want_if or len(comp.ifs) != 1:
            raise _forbidden(comp.ifs[0], ctx, f"'if' inside {name}(); write the condition itself")
        cond = _expect(_check(comp.ifs[0], ctx, inner), BOOL, ctx, comp.ifs[0])
    elt = _check(gen.elt, ctx, inner)
    return var, coll, cond, elt


def _call(node: ast.Call, ctx: _Ctx, names: dict[str, str], loc: Loc, text: str) -> Expr:
    if not isinstance(node.func, ast.Name):
        raise _forbidden(node, ctx, "calling anything but a function name")
    name = node.func.id
    if name.startswith("_"):
        raise _forbidden(node, ctx, f"the function '{name}'")
    if name in ("any", "all"):
        var, coll, _, body = _generator(node, ctx, names, want_if=False)
        _expect(body, BOOL, ctx, node)
        return Expr("quant", BOOL, loc, text, name, (coll, body), var=var)
    if name == "first":
        var, coll, cond, body = _generator(node, ctx, names, want_if=True)
        if body.kind != "var" or body.value != var:
            raise ctx.err("E202", f"first() picks the loop variable itself: first({var} for {var} in ... if ...)", node)
        if coll.type != PARTY_SET:
            raise ctx.err("E204", "first() picks a party: it ranges over a set of parties", node)
        picked: tuple[Expr, ...] = (coll,) if cond is None else (coll, cond)
        return Expr("first", PARTY, loc, text, "first", picked, var=var)
    if name == "select":
        var, coll, cond, body = _generator(node, ctx, names, want_if=True)
        if body.kind != "var" or body.value != var or coll.type != PARTY_SET:
            raise ctx.err("E202", f"select() keeps members of a set of parties: select({var} for {var} in ... if ...)",
                          node)
        kept: tuple[Expr, ...] = (coll,) if cond is None else (coll, cond)
        return Expr("select", PARTY_SET, loc, text, "select", kept, var=var)
    if name == "coalesce":
        if len(node.args) < 2 or node.keywords:
            raise ctx.err("E206", "coalesce() takes two or more arguments", node)
        args = tuple(_check(a, ctx, names) for a in node.args)
        typ: str | None = args[0].type
        for a in args[1:]:
            typ = _unify(typ, a.type) if typ is not None else None
        if typ is None or typ not in (*REF_TYPES, NULL):
            raise ctx.err("E204", "coalesce() takes parties or emails of one type", node)
        return Expr("coalesce", typ, loc, text, "coalesce", args)
    signature = ctx.signatures.get(name)
    if signature is None:
        raise ctx.err("E205", f"unknown function or definition '{name}'", node,
                      "functions: any, all, first, select, coalesce; definitions: " + ", ".join(sorted(ctx.signatures)))
    params, result = signature
    if node.keywords or len(node.args) != len(params):
        raise ctx.err("E206", f"{name}() takes {len(params)} argument(s), {len(node.args)} given", node)
    checked: list[Expr] = []
    for arg_node, ptype in zip(node.args, params, strict=True):
        arg = _check(arg_node, ctx, names)
        if _unify(arg.type, ptype) != ptype:
            raise ctx.err("E204", f"argument '{arg.text}' of {name}() is a {arg.type}, a {ptype} is needed", arg_node)
        checked.append(arg)
    return Expr("call", result, loc, text, name, tuple(checked))


def conjuncts(e: Expr) -> tuple[Expr, ...]:
    """The top-level parts of an `and`, used to say which part of a guard failed."""
    return e.args if e.kind == "and" else (e,)


def calls(e: Expr) -> set[str]:
    """The definitions an expression calls directly."""
    found: set[str] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if node.kind == "call":
            found.add(str(node.value))
        stack.extend(node.args)
    return found
