"""Z3 formulas as plain data, to go from a worker process back to the process that forked it (prove/levels.py).

A formula is written as a table of nodes, each shared subterm once, and read back, in the process that forked the
worker, into the very terms the worker had: Z3 shares one node per term, so rebuilding a term from its parts with
the same C functions gives the node the worker's term stands for there (the same variables, the same enumeration
values, the same structure). Only what the prover's terms are made of is written: the Boolean connectives, `==`,
if-then-else, the settings (uninterpreted constants) and the values of the enumeration sorts of z3api.enum_sort,
which the forking process declared before it forked (a worker declares none of its own); anything else is an
internal error, never a silent approximation.

Why by hand (ADR 016): Z3's Python objects do not pickle, and its SMT-LIB printer writes an enumeration's value
without its sort, so two enumerations that share a value's name (`none` is a method, a folder and a role) cannot
be read back from its text.
"""

from __future__ import annotations

from typing import Any

import z3

from .z3api import enum_values

Packed = tuple[Any, ...]  # one node: (operator, ...) with its children as indices of earlier nodes

_CONNECTIVES = {z3.Z3_OP_AND: "and", z3.Z3_OP_OR: "or", z3.Z3_OP_NOT: "not", z3.Z3_OP_EQ: "eq",
                z3.Z3_OP_ITE: "ite", z3.Z3_OP_IMPLIES: "implies", z3.Z3_OP_DISTINCT: "distinct",
                z3.Z3_OP_XOR: "xor"}


class Packer:
    """Writes formulas into one table of nodes (in a worker): `pack` gives a formula's index in `nodes`."""

    def __init__(self) -> None:
        self.nodes: list[Packed] = []
        self._index: dict[int, int] = {}  # Z3 id of a node -> its index in `nodes`

    def pack(self, formula: z3.ExprRef) -> int:
        ctx = formula.ctx.ref()
        stack: list[tuple[Any, bool]] = [(formula.as_ast(), False)]
        while stack:
            node, ready = stack.pop()
            ident = z3.Z3_get_ast_id(ctx, node)
            if ident in self._index:
                continue
            if z3.Z3_get_ast_kind(ctx, node) != z3.Z3_APP_AST:
                raise ValueError(f"not a term the prover builds: {z3.Z3_ast_to_string(ctx, node)}")
            args = [z3.Z3_get_app_arg(ctx, node, i) for i in range(z3.Z3_get_app_num_args(ctx, node))]
            if not ready and any(z3.Z3_get_ast_id(ctx, a) not in self._index for a in args):
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(args))
                continue
            self._index[ident] = len(self.nodes)
            self.nodes.append(self._node(ctx, node, [self._index[z3.Z3_get_ast_id(ctx, a)] for a in args]))
        return self._index[z3.Z3_get_ast_id(ctx, formula.as_ast())]

    @staticmethod
    def _node(ctx: Any, node: Any, children: list[int]) -> Packed:
        decl = z3.Z3_get_app_decl(ctx, node)
        kind = z3.Z3_get_decl_kind(ctx, decl)
        if kind in (z3.Z3_OP_TRUE, z3.Z3_OP_FALSE):
            return ("true" if kind == z3.Z3_OP_TRUE else "false",)
        if kind in _CONNECTIVES:
            return (_CONNECTIVES[kind], *children)
        name = z3.Z3_get_symbol_string(ctx, z3.Z3_get_decl_name(ctx, decl))
        sort = z3.Z3_get_sort(ctx, node)
        sort_name = z3.Z3_get_symbol_string(ctx, z3.Z3_get_sort_name(ctx, sort))
        if kind == z3.Z3_OP_DT_CONSTRUCTOR and not children:
            return ("value", sort_name, name)
        if kind == z3.Z3_OP_UNINTERPRETED and not children:
            is_bool = z3.Z3_get_sort_kind(ctx, sort) == z3.Z3_BOOL_SORT
            return ("bool", name) if is_bool else ("const", sort_name, name)
        raise ValueError(f"not a term the prover builds: {z3.Z3_ast_to_string(ctx, node)}")


class Unpacker:
    """Reads a table of nodes back into Z3 terms (in the process that forked the worker that wrote it)."""

    def __init__(self, nodes: list[Packed]) -> None:
        self.nodes = nodes
        self._made: list[z3.ExprRef] = []  # the terms of nodes[0], nodes[1], ... made so far
        self._ctx = z3.main_ctx()
        self._sorts: dict[str, tuple[z3.SortRef, dict[str, z3.ExprRef]]] = {
            sort.name(): (sort, values) for sort, values in enum_values()}

    def formula(self, index: int) -> z3.BoolRef:
        made = self.term(index)
        assert isinstance(made, z3.BoolRef)
        return made

    def term(self, index: int) -> z3.ExprRef:
        while len(self._made) <= index:  # children come before their parents in the table
            self._made.append(self._make(self.nodes[len(self._made)]))
        return self._made[index]

    def _make(self, node: Packed) -> z3.ExprRef:
        op, rest = node[0], node[1:]
        if op in ("true", "false"):
            return z3.BoolVal(op == "true", self._ctx)
        if op == "bool":
            return z3.Bool(rest[0], self._ctx)
        if op in ("value", "const"):
            sort, values = self._sorts[rest[0]]
            return values[rest[1]] if op == "value" else z3.Const(rest[1], sort)
        args = [self._made[i] for i in rest]
        ctx = self._ctx.ref()
        raw = [a.as_ast() for a in args]
        if op == "not":
            return z3.BoolRef(z3.Z3_mk_not(ctx, raw[0]), self._ctx)
        if op == "eq":
            return z3.BoolRef(z3.Z3_mk_eq(ctx, raw[0], raw[1]), self._ctx)
        if op == "implies":
            return z3.BoolRef(z3.Z3_mk_implies(ctx, raw[0], raw[1]), self._ctx)
        if op == "xor":
            return z3.BoolRef(z3.Z3_mk_xor(ctx, raw[0], raw[1]), self._ctx)
        if op == "ite":
            return type(args[1])(z3.Z3_mk_ite(ctx, raw[0], raw[1], raw[2]), self._ctx)
        array = (z3.Ast * len(raw))(*raw)
        make = {"and": z3.Z3_mk_and, "or": z3.Z3_mk_or, "distinct": z3.Z3_mk_distinct}[op]
        return z3.BoolRef(make(ctx, len(raw), array), self._ctx)
