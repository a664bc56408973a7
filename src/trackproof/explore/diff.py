"""`trackproof diff A B`: what changes between two configurations, as concrete scenarios, proved not sampled.

A and B are settings files (a YAML file whose `settings: {org: {...}}` gives organisation settings; what it leaves out
is at the documented default) or names of synchronization modes for user X (server_side_sync, outlook_client,
forward_mailbox, none). Every situation of the catalogue (model/situations.yaml) is played under A and under B with
X's other settings free; Z3 enumerates each side's rule paths and then asks, for every pair of paths with different
outcomes, whether some setting of X takes both: each such pair is a difference, shown with the scenario closest to
the defaults that exhibits it, replayable under A and under B.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import Loc, TrackproofError
from ..prove.regions import closest
from ..prove.rulepaths import PathRun, enumerate_paths, run_path
from ..prove.setup import Setup, prepare
from ..prove.z3api import SAT, add, check, new_solver
from ..simulate.scenario_file import scenario_text
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.settings import load_settings_file
from .situations import SETTLE, Situation, load_situations, outcome_text, situation_claim


def modes(model: Model) -> dict[str, dict[Setting, Any]]:
    """The modes a diff may name (the machines' `mode` in model/machines/), as settings of user X and the org."""
    return {name: {("org" if owner == "org" else "X", setting): value for (owner, setting), value in m.mode.items()}
            for name, m in model.machines.items() if m.mode}


@dataclass(frozen=True)
class Difference:
    id: str
    sentence: str
    settings: dict[str, Any]  # X's settings (changes from the defaults) that show it
    outcome_a: dict[str, str]
    outcome_b: dict[str, str]
    scenario_a: str
    scenario_b: str
    group: str


@dataclass(frozen=True)
class DiffResult:
    a: str
    b: str
    situations: int
    differences: list[Difference]


def setup_of(model: Model, source: str) -> dict[Setting, Any]:
    """The fixed settings a name or settings file stands for (X's mailbox configured, approved and enabled)."""
    fixed: dict[Setting, Any] = {("org", k): a.default for k, a in model.vocabulary.groups["org"].items()}
    fixed.update({("X", "approved"): True, ("X", "enabled"): True})
    named = modes(model)
    if source in named:
        fixed.update(named[source])
        return fixed
    try:
        org = load_settings_file(model, source)
    except TrackproofError as err:
        import os

        if err.code == "E101" and not os.path.lexists(source):  # a file that is there but unreadable says why
            raise TrackproofError("E402", f"'{source}' is neither a settings file nor a mode",
                                  Loc(source, 0, 0), "modes: " + ", ".join(named)) from None
        raise
    fixed.update({("org", k): v for k, v in org.items()})
    mailbox = model.vocabulary.groups["mailbox"]
    fixed.update({("X", "incoming"): mailbox["incoming"].default, ("X", "outgoing"): mailbox["outgoing"].default})
    return fixed


def _name(source: str) -> str:
    import os

    return os.path.splitext(os.path.basename(source))[0]  # a mode's name is its own


def _outcome(run: PathRun) -> dict[str, str]:
    return {k: (o.status or "stored") if o.stored else "not stored" for k, o in run.outcomes.items()}


def diff(model: Model, a: str, b: str, situations: list[Situation] | None = None) -> DiffResult:
    situations = situations if situations is not None else load_situations(model)
    setups = (setup_of(model, a), setup_of(model, b))
    name_a, name_b = _name(a), _name(b)
    found: list[Difference] = []
    for situation in situations:
        sides: list[tuple[Claim, Setup, list[PathRun]]] = []
        for tag, fixed in zip(("A", "B"), setups, strict=True):
            claim = situation_claim(model, situation, fixed, f"@{tag}")
            prepared = prepare(model, claim)
            paths, _ = enumerate_paths(model, claim, prepared, every_field=True)
            sides.append((claim, prepared, [p for p in paths if p.feasible]))
        (ca, setup_a, pa), (cb, setup_b, pb) = sides
        sa, ba, sb, bb = setup_a.space, list(setup_a.base), setup_b.space, list(setup_b.base)
        seen: set[tuple[Any, ...]] = set()
        for run_a in pa:
            for run_b in pb:
                key = (tuple(sorted(_outcome(run_a).items())), tuple(sorted(_outcome(run_b).items())))
                if key[0] == key[1] or key in seen:
                    continue
                region = [*ba, *bb, run_a.condition, run_b.condition]
                probe = new_solver()
                add(probe, region)
                if check(probe) != SAT:
                    continue
                seen.add(key)
                mentioned = sa.read | sa.constrained | sb.read | sb.constrained
                settings = closest(model, sa, region, mentioned)  # X's settings, shared by both sides
                shared = {s: v for s, v in settings.items() if s in sb.vars}
                wa = run_path(model, ca, setup_a, {**sa.defaults, **{s: v for s, v in shared.items() if s in sa.vars}})
                wb = run_path(model, cb, setup_b, {**sb.defaults, **{s: v for s, v in shared.items() if s in sb.vars}})
                if _outcome(wa) == _outcome(wb):  # defensive: only differences the two runs show are reported
                    continue
                changed = {sa.label(s): v for s, v in shared.items() if sa.defaults.get(s) != v}
                when = (" when " + ", ".join(f"{k} = {v}" for k, v in changed.items())) if changed else ""
                with_b = "; ".join(outcome_text(k, o) for k, o in wb.outcomes.items())
                with_a = "; ".join(outcome_text(k, o) for k, o in wa.outcomes.items())
                says = situation.says[0].upper() + situation.says[1:]
                sentence = f"{says}{when}: with {name_b}, {with_b}; with {name_a}, {with_a}."
                file_a = scenario_text(ca, sa.defaults, wa.settings, wa.outcomes, f"{situation.says} (with {name_a})")
                file_b = scenario_text(cb, sb.defaults, wb.settings, wb.outcomes, f"{situation.says} (with {name_b})")
                found.append(Difference(f"{situation.id}-{len(seen)}", sentence, changed, _outcome(wa), _outcome(wb),
                                        file_a, file_b, situation.group))
    order = {s.id: i for i, s in enumerate(situations)}
    # Canonical: by the settings changed, the situation, then the sentence (not the order Z3 found the pairs in,
    # which depends on what the process asked Z3 before); each difference numbered within its situation after.
    found.sort(key=lambda d: (len(d.settings), order[d.id.rsplit("-", 1)[0]], d.sentence))
    counts: dict[str, int] = {}
    for i, d in enumerate(found):
        base = d.id.rsplit("-", 1)[0]
        counts[base] = counts.get(base, 0) + 1
        found[i] = replace(d, id=f"{base}-{counts[base]}")
    return DiffResult(a, b, len(situations), found)


def diff_text(r: DiffResult) -> str:
    lines = [f"What changes from {_name(r.a)} ({r.a}) to {_name(r.b)} ({r.b})", ""]
    if not r.differences:
        lines.append(f"Nothing differs in any of the {r.situations} situations of the catalogue, under any setting of "
                     "X: proved (every rule path of both compared with Z3), not sampled.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(r.differences)} differences over {r.situations} situations (every rule path compared with Z3):")
    for i, d in enumerate(r.differences, 1):
        lines.append(f"  {i}. {d.sentence}")
    return "\n".join(lines) + "\n"


def diff_json(r: DiffResult) -> dict[str, Any]:
    return {"a": r.a, "b": r.b, "situations": r.situations,
            "differences": [asdict(d) for d in r.differences]}


__all__ = ["SETTLE", "diff", "diff_json", "diff_text"]
