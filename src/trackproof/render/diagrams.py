"""`trackproof diagrams`: write the diagrams of the model (and comparisons, highlighted traces) to a folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import Loc, TrackproofError, printable
from ..spec.ir import Machine, Model
from ..spec.settings import load_settings_file
from ..spec.shipped import default_model_dir
from .dot import to_dot
from .mermaid import to_mermaid
from .model import Diagram, acceptance_flow, compare, edge_key, highlight, machine_diagram

if TYPE_CHECKING:
    from .swimlanes import Swimlanes

FORMATS = ("svg", "dot", "mermaid")
EXTENSIONS = {"dot": ".dot", "mermaid": ".mmd", "svg": ".svg"}
DEFAULT_COMPARISON = ("server_side_sync", "outlook_client")


def default_diagrams(model: Model) -> list[Diagram]:
    out = [machine_diagram(model, m) for m in model.machines.values()]
    out.append(acceptance_flow(model))
    a, b = DEFAULT_COMPARISON
    if a in model.machines and b in model.machines:
        out.append(compare_machines(model, a, b))
    return out


def settings_example(model: Model) -> Diagram | None:
    """The administrator's question "what changes if we turn on AutoTrackSentFolderItems?", as a picture (its own
    command, `--compare examples/settings/defaults.yaml examples/settings/auto-track-sent-items.yaml`, since it asks
    Z3; a copy is kept in diagrams/ and checked by the tests)."""
    settings = os.path.join(os.path.dirname(default_model_dir()), "examples", "settings")
    before, after = (os.path.join(settings, n) for n in ("defaults.yaml", "auto-track-sent-items.yaml"))
    if os.path.isfile(before) and os.path.isfile(after) and "server_side_sync" in model.machines:
        return compare_settings(model, "server_side_sync", before, after)
    return None


def _keys(machine: Machine) -> set[str]:
    return {edge_key(t) for t in machine.transitions}


def compare_machines(model: Model, a: str, b: str) -> Diagram:
    for name in (a, b):
        if name not in model.machines:
            raise TrackproofError("E303", f"unknown machine '{name}'", hint="machines: " + ", ".join(model.machines))
    ma, mb = model.machines[a], model.machines[b]
    return compare(model, (a, _keys(ma)), (b, _keys(mb)), ma, f"{ma.title} (blue) compared with {mb.title} (orange)")


def compare_settings(model: Model, machine: str, a: str, b: str) -> Diagram:
    """One machine under two settings files (organisation settings; what a file leaves out is at its documented
    default): which rules can fire under each, asked of Z3 over the free world of `check --model`."""
    import z3

    from ..prove.modelcheck import FreeWorld
    from ..prove.z3api import eq, new_solver

    world = FreeWorld(model)
    env = world.scope()
    if machine not in model.machines:
        raise TrackproofError("E303", f"unknown machine '{machine}'", hint="machines: " + ", ".join(model.machines))
    m = model.machines[machine]
    guards = {edge_key(t): world.term(t.guard, env) if t.guard is not None else z3.BoolVal(True)
              for t in m.transitions}
    solver = new_solver()
    solver.add(world.background)
    org_types = {k: a.type for k, a in model.vocabulary.groups["org"].items()}
    sides = []
    for path in (a, b):
        # A settings file is a whole configuration: what it does not say is at the documented default.
        org = {**{k: a.default for k, a in model.vocabulary.groups["org"].items()}, **load_settings_file(model, path)}
        fixed = [eq(world.var(f"org.{k}", org_types[k]), world.const(v, org_types[k])) for k, v in org.items()]
        enabled = {key for key, guard in guards.items() if solver.check(*fixed, guard) == z3.sat}
        sides.append((os.path.splitext(os.path.basename(path))[0], enabled))
    return compare(model, sides[0], sides[1], m,
                   f"{m.title}: rules that can fire under {sides[0][0]} (blue) and {sides[1][0]} (orange)")


def trace_steps(path: str, claim: str | None) -> tuple[list[tuple[str, str, str, str]], str]:
    """(email, rule, from, to) steps from a `check` or `run` JSON file, or a bare list of trace steps."""
    from ..inputs import load_json

    doc = load_json(path)  # a regular file, bounded in size and depth
    title = f"Trace from {os.path.basename(path)}"
    try:
        return _steps(doc, path, claim, title)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise TrackproofError("E503", "not a trace: give the JSON of `check` (a counterexample), of `run` on one "
                              "file, or a list of steps", Loc(path, 1, 1)) from None


def _step(step: Any, number: int, path: str) -> tuple[str, str, str, str]:
    """One trace step: its email, rule, and the states it went from and to, each a text."""
    if not isinstance(step, dict):
        raise TrackproofError("E503", f"trace step {number} is not an object", Loc(path, 1, 1))
    values = []
    for key in ("email", "rule", "from", "to"):
        value = step.get(key)
        if not isinstance(value, str):
            raise TrackproofError("E503", f"trace step {number} " + (f"has no '{key}'" if value is None else
                                  f"whose '{key}' is not text"), Loc(path, 1, 1))
        values.append(value)
    return values[0], values[1], values[2], values[3]


def _steps(doc: Any, path: str, claim: str | None, title: str) -> tuple[list[tuple[str, str, str, str]], str]:
    steps: list[dict[str, Any]] = []
    if isinstance(doc, dict) and "claims" in doc:
        chosen = [c for c in doc["claims"] if c.get("counterexample") and (claim is None or c["id"] == claim)]
        if not chosen:
            raise TrackproofError("E503", "no counterexample trace" + (f" for claim '{claim}'" if claim else ""),
                                  Loc(path, 1, 1))
        if claim is None:
            print(printable(f"trackproof: drawing the counterexample to {chosen[0]['id']} (choose with --claim)"),
                  file=sys.stderr)
        steps = chosen[0]["counterexample"]["trace"]
        title = f"Counterexample to {chosen[0]['id']}: {chosen[0]['text']}"
    elif isinstance(doc, dict) and "emails" in doc:
        for key, email in doc["emails"].items():
            steps += [{**s, "email": key} for s in email.get("steps", []) if s.get("rule")]
        steps.sort(key=lambda s: s["event"])
        title = f"Scenario: {doc.get('name', os.path.basename(path))}"
    elif isinstance(doc, list) and doc and isinstance(doc[0], dict) and "emails" in doc[0]:
        raise TrackproofError("E503", "the JSON of `run` on several files: run one scenario to draw its path",
                              Loc(path, 1, 1))
    elif isinstance(doc, list):
        steps = doc
    found = [_step(s, number, path) for number, s in enumerate(steps, 1)]
    if not found:
        raise TrackproofError("E503", "no trace steps: give the JSON of `check` (a counterexample), of `run` on one "
                              "file, or a list of steps", Loc(path, 1, 1))
    return found, title


def trace_machine(model: Model, steps: Sequence[tuple[str, str, str, str]]) -> Machine:
    """The mode a trace runs in: the first, from the plainest, whose rules hold every rule of the trace."""
    rules = {rule for _, rule, _, _ in steps}
    order = ["none", "forward_mailbox", "outlook_client", "server_side_sync"]
    candidates = [model.machines[n] for n in order if n in model.machines] + list(model.machines.values())
    return next((m for m in candidates if rules <= {t.id for t in m.transitions}), candidates[-1])


def trace_diagram(model: Model, steps: list[tuple[str, str, str, str]], title: str, guards: bool = True) -> Diagram:
    """A trace (email, rule, from, to) drawn on its mode's diagram (simplified without `guards`)."""
    return highlight(machine_diagram(model, trace_machine(model, steps), guards), steps, title)


def highlighted(model: Model, path: str, claim: str | None) -> Diagram:
    steps, title = trace_steps(path, claim)
    return trace_diagram(model, steps, title)


def _drawn_from(path: str) -> str | None:
    """The DOT digest of the SVG already at `path`, if any."""
    from .svg import stamp

    try:
        with open(path, encoding="utf-8") as handle:
            return stamp(handle.read(2048))
    except (OSError, UnicodeDecodeError):
        return None


def swimlanes_of(model: Model, path: str) -> Swimlanes:
    """The swimlanes of a scenario file's run."""
    from ..simulate.engine import simulate
    from ..spec.scenario import load_scenario
    from .swimlanes import swimlanes

    scenario = load_scenario(path, model)
    return swimlanes(scenario, simulate(model, scenario))


def write(diagrams: Sequence[Diagram | Swimlanes], out: str, formats: tuple[str, ...], renderer: str | None,
          log: TextIO | None = None) -> list[str]:
    """Write each diagram in each format. An SVG already drawn from the same DOT (its stamp says so) is kept as it
    is unless a renderer is asked for by name: redrawing it with another renderer would change its bytes and
    nothing else, so the committed pictures stay untouched where Graphviz is installed."""
    from ..files import write_atomic
    from .svg import dot_digest

    log = log or sys.stderr
    os.makedirs(out, exist_ok=True)
    def dot_of(d: Diagram | Swimlanes) -> str:
        if isinstance(d, Diagram):
            return to_dot(d)
        from . import swimlanes  # only on request: it brings in the simulator

        return swimlanes.to_dot(d)

    def mermaid_of(d: Diagram | Swimlanes) -> str:
        if isinstance(d, Diagram):
            return to_mermaid(d)
        from . import swimlanes

        return swimlanes.to_mermaid(d)

    texts = [(d, dot_of(d)) for d in diagrams]
    svgs: dict[int, str] = {}
    if "svg" in formats:
        stale = [i for i, (d, dot) in enumerate(texts)
                 if renderer not in (None, "auto") or _drawn_from(os.path.join(out, d.name + EXTENSIONS["svg"]))
                 != dot_digest(dot)]
        if stale:
            from .svg import choose, to_svgs

            chosen = choose(renderer or "auto")
            log.write(f"trackproof: drawing {len(stale)} SVG with the {chosen} renderer"
                      + (" (Graphviz's dot program)" if chosen == "dot" else " (Graphviz in WebAssembly)")
                      + (f"; {len(texts) - len(stale)} already drawn from the same DOT" if len(stale) < len(texts)
                         else "") + "\n")
            svgs = dict(zip(stale, to_svgs([texts[i][1] for i in stale], chosen), strict=True))
        else:
            log.write(f"trackproof: every SVG ({len(texts)}) is already drawn from the same DOT\n")
    written = []
    for i, (d, dot) in enumerate(texts):
        for fmt in formats:
            target = os.path.join(out, d.name + EXTENSIONS[fmt])
            if fmt == "svg" and i not in svgs:
                written.append(target)  # up to date: kept as it is
                continue
            content = dot if fmt == "dot" else (mermaid_of(d) if fmt == "mermaid" else svgs[i])
            write_atomic(target, content)
            written.append(target)
    return written
