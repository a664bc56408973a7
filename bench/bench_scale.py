"""How cost grows with the work: recipients, parties of free kind, reply threads, and events of `run`.

Each size runs in a fresh process (so its peak memory is its own), and prints wall time, rule paths and peak
memory; each family ends with the fitted growth (the slope of log cost over log size: 1 is linear, 2 quadratic).
Families (every setting free unless said):
- recipients: C (a contact) emails n users and queues (alternating); a sync; conclusion `E1.stored`;
- free kinds: X sends from Dynamics 365 to n parties whose kind ranges over contact, lead, account and an unknown
  address; a sync; conclusion `E1.stored`;
- threads: X (from Dynamics 365) and C reply to each other, n emails, a sync after each; conclusion: the last
  email is stored;
- run: `trackproof run --format json` on a reply thread of n events.
With --compare, a family with many rule paths on purpose (parties that may be users or queues, their other mailbox
settings at defaults that differ by kind) runs both rule-path enumerations: the decision tree of
prove/rulepaths.py, and blocking each path condition in one solver (the method before), to measure both.
Targets (issue 12): 16 recipients and 12 parties of free kind each under 2 s, exact; rule paths at most linear in
recipients; `run` of 5,000 events under 10 s and 300 MB, output linear in events.

Usage: python bench/bench_scale.py [--quick] [--compare]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ensure_bytecode, trackproof_command

ROOT = Path(__file__).resolve().parent.parent


def recipients(n: int) -> str:
    parts = {"C": "{kind: contact}", **{f"R{i}": "{kind: %s}" % ("user" if i % 2 == 0 else "queue") for i in range(n)}}
    return _claim(f"recipients-{n}", f"C emails {n} users and queues", parts,
                  [f"send: {{id: E1, from: C, to: [{', '.join(f'R{i}' for i in range(n))}]}}", "sync"], "E1.stored")


def free_kinds(n: int) -> str:
    parts = {"X": "{kind: user}", **{f"P{i}": "{kind: [contact, lead, account, unknown]}" for i in range(n)}}
    return _claim(f"free-{n}", f"X sends from CRM to {n} parties of free kind", parts,
                  [f"send: {{id: E1, from: X, to: [{', '.join(f'P{i}' for i in range(n))}], via: crm}}", "sync"],
                  "E1.stored")


def mailbox_kinds(n: int) -> str:
    """Many rule paths on purpose (to compare the enumerations): parties that may be users or queues whose other
    mailbox settings stay at their defaults, which differ by kind, so each party's class is a path of its own."""
    parts = {"X": "{kind: user}", **{f"P{i}": "{kind: [user, queue]}" for i in range(n)}}
    free = ", ".join(f"P{i}.kind, P{i}.filter" for i in range(n))
    text = _claim(f"mailbox-{n}", f"X sends from CRM to {n} users or queues", parts,
                  [f"send: {{id: E1, from: X, to: [{', '.join(f'P{i}' for i in range(n))}], via: crm}}", "sync"],
                  "E1.stored or E1.incoming.stored")
    return text.replace("    participants:", f"    scope: {{free: [{free}, X.outgoing]}}\n    participants:", 1)


def thread(n: int) -> str:
    events = ["send: {id: E1, from: X, to: [C], via: crm}", "sync"]
    for e in range(2, n + 1):
        if e % 2 == 0:
            events.append(f"send: {{id: E{e}, from: C, to: [X], reply_to: E{e - 1}}}")
        else:
            events.append(f"send: {{id: E{e}, from: X, to: [C], via: crm, reply_to: E{e - 1}}}")
        events.append("sync")
    return _claim(f"thread-{n}", f"a thread of {n} emails", {"X": "{kind: user}", "C": "{kind: contact}"}, events,
                  f"E{n}.stored")


def _claim(cid: str, text: str, parts: dict[str, str], events: list[str], conclusion: str) -> str:
    lines = ["claims:", f"  - id: {cid}", f"    text: \"{text}\"", "    participants:"]
    lines += [f"      {k}: {v}" for k, v in parts.items()]
    lines += ["    events:", *(f"      - {e}" for e in events), f"    conclusion: \"{conclusion}\""]
    return "\n".join(lines) + "\n"


def run_events(n: int) -> str:
    lines = ["name: thread", "participants:", "  X: {kind: user, approved: true, enabled: true}",
             "  C: {kind: contact}", "events:", "  - send: {id: E1, from: X, to: [C], via: crm}", "  - sync"]
    count, e = 2, 1
    while count < n:
        e += 1
        reply = f"{{id: E{e}, from: C, to: [X], reply_to: E{e - 1}}}" if e % 2 == 0 else \
            f"{{id: E{e}, from: X, to: [C], via: crm, reply_to: E{e - 1}}}"
        lines += [f"  - send: {reply}", "  - sync"]
        count += 2
    return "\n".join(lines) + "\n"


#: Proves one claim file in this process and prints time, paths, verdict and peak memory as JSON ("prove"), or only
#: enumerates its rule paths, with the decision tree ("tree") or by blocking each path condition in one solver
#: ("blocking").
_PROVE = """
import json, resource, sys, time
from trackproof.spec.claims import load_claims
from trackproof.spec.loader import load_model
model = load_model()
[claim] = load_claims(sys.argv[1], model)
start = time.perf_counter()
if sys.argv[2] == "blocking":
    from trackproof.prove.rulepaths import outcome_reads, run_path, settings_of
    from trackproof.prove.setup import prepare
    from trackproof.prove.z3api import UNSAT, add, check, neg, new_solver
    setup = prepare(model, claim)
    solver = new_solver()
    add(solver, list(setup.base))
    paths = 0
    while check(solver) != UNSAT:
        settings = settings_of(setup.space, solver.model())
        path = run_path(model, claim, setup, settings, outcome_reads(claim)[1], False)
        add(solver, [neg(path.condition)])
        paths += 1
    verdict, reason = "-", ""
elif sys.argv[2] == "tree":
    from trackproof.prove.rulepaths import enumerate_paths
    from trackproof.prove.setup import prepare
    found, reason = enumerate_paths(model, claim, prepare(model, claim), explain=False)
    paths, verdict = len(found), "-"
else:
    from trackproof.prove.verdict import prove_claim
    v = prove_claim(model, claim).verdict
    paths, verdict, reason = v.rule_paths, str(v.verdict), v.reason
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "paths": paths, "verdict": verdict, "reason": reason,
                  "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def prove(text: str, how: str = "prove") -> dict[str, object]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    done = subprocess.run([sys.executable, "-c", _PROVE, handle.name, how], capture_output=True, text=True,
                          check=True, timeout=600)
    return dict(json.loads(done.stdout))


def run_cli(text: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        scenario, output = Path(folder) / "t.yaml", Path(folder) / "out.json"
        scenario.write_text(text, encoding="utf-8")
        code = ("import resource, sys, time; from trackproof.cli import main; start = time.perf_counter(); "
                f"main(['run', '--format', 'json', '-o', {str(output)!r}, {str(scenario)!r}]); "
                "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
        wall = time.perf_counter() - start
        seconds, mb = (float(x) for x in done.stdout.split())
        return {"seconds": seconds, "wall": wall, "mb": mb, "bytes": output.stat().st_size}


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of log(cost) over log(size)."""
    xs = [math.log(x) for x, y in points if x > 0 and y > 0]
    ys = [math.log(y) for x, y in points if x > 0 and y > 0]
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def family(name: str, make: object, sizes: list[int], how: str = "prove") -> list[tuple[int, dict[str, object]]]:
    print(f"\n{name}" + (f" (rule paths only, {how} enumeration)" if how != "prove" else ""))
    rows = []
    for n in sizes:
        found = prove(make(n), how)  # type: ignore[operator]
        rows.append((n, found))
        print(f"  n = {n:3d}: {float(found['seconds']):7.3f} s, {found['paths']:5} rule paths, "  # type: ignore[arg-type]
              f"{float(found['mb']):6.1f} MB peak, {found['verdict']} {found['reason']}")  # type: ignore[arg-type]
    print(f"  growth: time ~ n^{slope([(n, float(r['seconds'])) for n, r in rows]):.2f}, "  # type: ignore[arg-type]
          f"paths ~ n^{slope([(n, float(r['paths'])) for n, r in rows]):.2f}")  # type: ignore[arg-type]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer sizes")
    parser.add_argument("--compare", action="store_true", help="also the blocking enumeration on recipients")
    args = parser.parse_args()
    ensure_bytecode()
    print(f"command: {' '.join(trackproof_command())}; every size in a fresh process")
    ok = True
    r = family("recipients: C emails n users and queues", recipients,
               [1, 2, 4, 8, 16] if args.quick else [1, 2, 4, 6, 8, 12, 16])
    ok = ok and float(r[-1][1]["seconds"]) < 2 and not r[-1][1]["reason"]  # type: ignore[arg-type]
    if args.compare:
        sizes = [2, 4, 6, 8] if args.quick else [2, 4, 6, 8, 9, 10]
        for how in ("tree", "blocking"):
            family("mailbox kinds: X sends from CRM to n users or queues (defaults differ by kind)", mailbox_kinds,
                   sizes, how)
    f = family("free kinds: X sends from CRM to n parties of free kind", free_kinds,
               [1, 2, 4, 8, 12] if args.quick else [1, 2, 4, 6, 8, 10, 12])
    ok = ok and float(f[-1][1]["seconds"]) < 2 and not f[-1][1]["reason"]  # type: ignore[arg-type]
    family("threads: X and C reply to each other, n emails", thread, [2, 4, 8, 16] if args.quick else [2, 4, 8, 16, 32])
    print("\nrun: trackproof run --format json on a reply thread of n events")
    rows = []
    for n in ([10, 100, 1000, 5000] if args.quick else [10, 100, 500, 1000, 2000, 5000]):
        found = run_cli(run_events(n))
        rows.append((n, found))
        print(f"  n = {n:5d}: {float(found['seconds']):6.2f} s ({float(found['wall']):.2f} s as a command), "  # type: ignore[arg-type]
              f"{float(found['mb']):6.1f} MB peak, {found['bytes']:10,} bytes of JSON")
    big = [(n, r) for n, r in rows if n >= 100]
    print(f"  growth: time ~ n^{slope([(n, float(r['seconds'])) for n, r in big]):.2f}, "  # type: ignore[arg-type]
          f"output ~ n^{slope([(n, float(r['bytes'])) for n, r in big]):.2f} (sizes from 100)")  # type: ignore[arg-type]
    last = rows[-1][1]
    ok = ok and float(last["wall"]) < 10 and float(last["mb"]) < 300  # type: ignore[arg-type]
    print("\ntargets met" if ok else "\nsome target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
