"""Hostile content in well-formed files, and hostile conditions around a command (issue 11): expressions too deep or
too long, values of the wrong type where the simulator or the prover would meet them, terminal control characters,
an unreadable settings file, an output path that is a folder, a standard error that cannot be written, signals.
Each refusal: exit 2, a code, no traceback, within the time bound."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackproof.errors import TrackproofError
from trackproof.simulate.engine import simulate
from trackproof.spec.binders import MAX_BINDERS
from trackproof.spec.expr import MAX_DEPTH, MAX_LENGTH, MAX_REACH
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import cli
from .hostile import CLAIMS, GAPS_UNIVERSE, ROOT, SCENARIO, SETTINGS, assert_refused, snapshot, trackproof

SEND = """\
participants:
  X: {kind: user, approved: true, enabled: true, filter: all}
  C: {kind: contact}
events:
  - send: {id: E1, from: C, to: [X]}
  - sync
"""


def _claim(conclusion: str) -> str:
    return ("claims:\n  - id: deep\n    text: deep\n    participants:\n      X: {kind: user}\n"
            "      C: {kind: contact}\n    events:\n      - send: {id: E1, from: C, to: [X]}\n      - sync\n"
            f"    conclusion: \"{conclusion}\"\n")


@pytest.mark.parametrize(("conclusion", "code"), [
    ("(" * 10_000 + "E1.stored" + ")" * 10_000, "E208"),  # Python's parser would say MemoryError or give up
    ("not " * 10_000 + "E1.stored", "E208"),
    ("not " * (MAX_DEPTH + 5) + "E1.stored", "E208"),  # short enough for the parser, too deep to evaluate safely
    (" or ".join(["E1.stored"] * (MAX_LENGTH // 10)), "E208"),
])
def test_expressions_too_deep_or_too_long_are_refused_before_they_are_parsed(tmp_path: Path, conclusion: str,
                                                                             code: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(_claim(conclusion), encoding="utf-8")
    for command in (["check", "--no-cache", "--jobs", "1", str(path)], ["gaps", "--jobs", "1", str(path)]):
        assert_refused(trackproof(command, tmp_path), code, where=f"{path}:10:")
    watched = trackproof(["run", str(SCENARIO), "--watch", conclusion], tmp_path)
    assert_refused(watched, code)


def _nested(levels: int, coll: str = "E1.to", inner: str = "r0 == X") -> str:
    text = inner
    for k in range(levels):
        text = f"any({text} for r{k} in {coll})"
    return text


def test_binders_nested_past_the_limit_are_refused_before_any_work(tmp_path: Path) -> None:
    """Eight any(...) within one another over an email's ten recipients is 10^8 evaluations: `run --watch` and
    `check` never ended (a 175-character expression, well within the length and depth limits). A claim or a
    --watch expression nesting more than MAX_BINDERS binders, counting the model's definitions it calls, is
    refused; one at the limit runs."""
    scenario = tmp_path / "wide.yaml"
    contacts = [f"P{k}" for k in range(10)]
    scenario.write_text("participants:\n  X: {kind: user}\n" + "".join(f"  {c}: {{kind: contact}}\n" for c in contacts)
                        + f"events:\n  - send: {{id: E1, from: X, to: [{', '.join(contacts)}], via: crm}}\n  - sync\n",
                        encoding="utf-8")
    started = time.monotonic()
    assert_refused(trackproof(["run", str(scenario), "--watch", _nested(MAX_BINDERS + 1)], tmp_path), "E208",
                   where="<--watch>:1:1")
    claims = tmp_path / "deep.yaml"
    claims.write_text(_claim(_nested(MAX_BINDERS + 1)), encoding="utf-8")
    assert_refused(trackproof(["check", "--no-cache", "--jobs", "1", str(claims)], tmp_path), "E208",
                   where=f"{claims}:10:")
    assert time.monotonic() - started < 20
    within = trackproof(["run", str(scenario), "--watch", _nested(MAX_BINDERS)], tmp_path)
    assert within.status == 0, within.err


def test_a_model_definition_nesting_too_many_binders_is_refused(tmp_path: Path) -> None:
    """The same bound for the model's own expressions, counted through the definitions they call: a definition
    of MAX_BINDERS binders is refused where a guard calls it inside a binder of its own."""
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    body = _nested(MAX_BINDERS, "email.recipients", "r0 == p")
    with open(model / "definitions.yaml", "a", encoding="utf-8") as handle:
        handle.write(_definition("too_many", body))
    machine = model / "machines" / "none.yaml"
    text = machine.read_text(encoding="utf-8")
    guard = "email.origin == 'crm' and not any(too_many(m) for m in email.recipients)"
    machine.write_text(text.replace("guard: \"email.origin == 'crm' and not unresolved_blocked()\"",
                                    f"guard: \"{guard}\"", 1), encoding="utf-8")
    assert_refused(trackproof(["validate", "--model-dir", str(model)], tmp_path), "E208", where=f"{machine}:")


def test_a_model_without_machines_is_refused(tmp_path: Path) -> None:
    """A model folder whose machines/ is missing, empty or a file said OK, and its claims got verdicts."""
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    machines = model / "machines"
    shutil.rmtree(machines)
    for shape in ("missing", "empty", "a file"):
        if shape == "empty":
            machines.mkdir()
        elif shape == "a file":
            machines.rmdir()
            machines.write_text("x", encoding="utf-8")
        for command in (["validate"], ["run", str(SCENARIO)], ["check", "--no-cache", str(CLAIMS)]):
            assert_refused(trackproof([*command, "--model-dir", str(model)], tmp_path), "E304", where=str(machines))


def _definition(name: str, body: str) -> str:
    return (f"  {name}:\n    params: {{p: party}}\n    expr: \"{body}\"\n    implements: [R1, R18]\n"
            "    sources: [D8, D11]\n    confidence: H\n    reason: \"a test\"\n")


def test_validate_runs_the_checks_run_does_on_a_guard_too_deep(tmp_path: Path) -> None:
    """A guard nested past the limit: validate refuses it as run does (it said OK while run crashed)."""
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    machine = model / "machines" / "none.yaml"
    text = machine.read_text(encoding="utf-8")
    deep = "not " * (MAX_DEPTH + 2) + "email.stored"
    machine.write_text(text.replace("guard: \"email.origin == 'crm' and not unresolved_blocked()\"",
                                    f"guard: \"{deep}\"", 1), encoding="utf-8")
    for command in (["validate"], ["run", str(SCENARIO)], ["check", "--no-cache", str(CLAIMS)]):
        assert_refused(trackproof([*command, "--model-dir", str(model)], tmp_path), "E208", where=f"{machine}:")


def test_definitions_calling_one_another_too_deep_are_refused_where_the_limit_is_passed(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    chain = [_definition("chain0", "p.kind == 'user'")]
    chain += [_definition(f"chain{k}", f"not not chain{k - 1}(p)") for k in range(1, MAX_REACH)]
    with open(model / "definitions.yaml", "a", encoding="utf-8") as handle:
        handle.write("".join(chain))
    result = trackproof(["validate", "--model-dir", str(model)], tmp_path)
    assert_refused(result, "E208", where=str(model / "definitions.yaml"))
    assert "with the definitions it calls" in result.err


def test_expressions_within_the_limits_run_and_prove_as_the_shallow_ones(tmp_path: Path) -> None:
    """A definition nested to near the limit (an even number of `not`, so the same meaning): run and check give
    the same answers as with the shipped model, with no RecursionError on the way."""
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    definitions = model / "definitions.yaml"
    nots = "not " * (2 * ((MAX_DEPTH - 8) // 2))
    definitions.write_text(definitions.read_text(encoding="utf-8").replace(
        "expr: \"p.kind in {'user', 'queue'}\"", f"expr: \"{nots}(p.kind in {{'user', 'queue'}})\"", 1),
        encoding="utf-8")
    for command in (["run", "--format", "json", str(SCENARIO)],
                    ["check", "--no-cache", "--jobs", "1", "--format", "json", "--exit-zero", str(CLAIMS)]):
        shipped = trackproof(command, tmp_path)
        deep = trackproof([*command, "--model-dir", str(model)], tmp_path, timeout=120)
        assert deep.status == shipped.status == 0, deep.err
        assert deep.out.replace(str(model), "MODEL") == shipped.out.replace(str(ROOT / "model"), "MODEL")


@pytest.mark.parametrize(("change", "code", "line"), [
    ("to: [X]", "to: {X: 1}", "E104"),  # a recipient list given as a mapping
    ("to: [X]", "to: [[X]]", "E104"),
    ("id: E1", "id: [E1]", "E104"),
    ("from: C", "from: {C: 1}", "E104"),
])
def test_event_parameters_of_the_wrong_type_are_refused_by_every_command(tmp_path: Path, change: str, code: str,
                                                                         line: str) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SEND.replace(change, code), encoding="utf-8")
    claims = tmp_path / "claims.yaml"
    claims.write_text(_claim("E1.stored").replace(change, code), encoding="utf-8")
    for command in (["run", str(scenario)], ["validate", str(scenario)], ["check", "--no-cache", str(claims)],
                    ["gaps", str(claims)], ["diagrams", "--out", "out", "--format", "dot", "--swimlanes",
                                            str(scenario)]):
        target = claims if str(claims) in command else scenario
        assert_refused(trackproof(command, tmp_path), line, where=f"{target}:")


@pytest.mark.parametrize(("expect", "code"), [
    ("  E1: {stored: maybe}\n", "E407"), ("  E1: {status: lost}\n", "E407"), ("  E1: {accepted_by: Z}\n", "E407"),
    ("  E1: {stored: [true]}\n", "E407"), ("  E9: {stored: true}\n", "E405"), ("  stored: maybe\n", "E405"),
])
def test_expectations_with_values_their_field_cannot_have_are_input_errors(capsys: pytest.CaptureFixture[str],
                                                                           tmp_path: Path, expect: str,
                                                                           code: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SEND + "expect:\n" + expect, encoding="utf-8")
    status, out, err = cli(capsys, "run", str(path))
    assert status == 2 and out == "" and f"{path}:8:" in err and f"error[{code}]" in err, err


def test_control_characters_from_input_are_escaped_in_messages_and_reports(capsys: pytest.CaptureFixture[str],
                                                                           tmp_path: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[2J\u202e"
    path = tmp_path / "scenario.yaml"
    path.write_text(f'name: "{hostile.encode("unicode_escape").decode()}"\n' + SEND, encoding="utf-8")
    status, out, _ = cli(capsys, "run", str(path))
    assert status == 0 and "\x1b" not in out and "\u202e" not in out and "\\u001b]0;owned\\u0007" in out
    status, out, _ = cli(capsys, "run", "--format", "json", str(path))
    assert status == 0 and "\u202e" not in out and '"\\u001b]0;owned\\u0007\\u001b[2J\\u202e' in out
    bad = tmp_path / "bad.yaml"  # YAML refuses most control characters written raw, not in escapes nor U+202E
    value = 'C: {address: "\u202e", kind: "contact\\x1b]0;owned\\x07"}'  # raw U+202E; ESC and BEL as escapes
    bad.write_text(SEND.replace("C: {kind: contact}", value), encoding="utf-8")
    status, _, err = cli(capsys, "run", str(bad))
    assert status == 2 and "error[E207]" in err, err
    assert not any(c in err for c in "\x1b\x07\u202e"), err
    line, caret = err.splitlines()[1:3]
    assert caret.index("^") == line.index('"contact')  # the caret still under the value, the escapes counted


@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling link"])
def test_diff_says_why_a_settings_file_cannot_be_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "settings.yaml"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(tmp_path / "gone.yaml")
    result = trackproof(["diff", str(path), str(SETTINGS)], tmp_path)
    assert_refused(result, "E101" if kind == "dangling link" else "E107", where=str(path))
    assert "neither a settings file nor a mode" not in result.err
    missing = trackproof(["diff", str(tmp_path / "no-such.yaml"), str(SETTINGS)], tmp_path)
    assert_refused(missing, "E101", where=str(tmp_path / "no-such.yaml"))  # a path: a file not found
    misspelt = trackproof(["diff", "serverside_sync", str(SETTINGS)], tmp_path)
    assert_refused(misspelt, "E402")  # a bare name: it may be a misspelt mode
    assert "neither a settings file nor a mode" in misspelt.err


def test_every_output_option_given_a_folder_or_a_file_names_the_path_given(capsys: pytest.CaptureFixture[str],
                                                                             tmp_path: Path) -> None:
    folder, afile = tmp_path / "folder", tmp_path / "file"
    folder.mkdir()
    afile.write_text("kept\n", encoding="utf-8")
    cases = [(["run", str(SCENARIO), "-o", str(folder)], folder),
             (["check", "--no-cache", "--jobs", "1", "--exit-zero", str(CLAIMS), "-o", str(folder)], folder),
             (["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "-o", str(folder)], folder),
             (["diff", str(SETTINGS), "server_side_sync", "-o", str(folder)], folder),
             (["check", "--no-cache", "--jobs", "1", "--exit-zero", str(CLAIMS), "--counterexamples", str(afile)],
              afile),
             (["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "--scenarios", str(afile)], afile),
             (["diagrams", "--format", "dot", "--out", str(afile)], afile)]
    before = snapshot(tmp_path)
    for argv, path in cases:
        status, _, err = cli(capsys, *argv)
        assert status == 2 and err.startswith(f"{path}: error[E504]") and "Traceback" not in err, (argv, err)
    assert snapshot(tmp_path) == before


def test_a_folder_option_that_cannot_be_made_names_the_path_given(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    """`--counterexamples /proc/x/y` said "/proc/x: ...": the deepest folder that could not be made, not the one
    asked for."""
    afile = tmp_path / "file"
    afile.write_text("kept\n", encoding="utf-8")
    wanted = afile / "sub" / "folder"
    for argv in (["check", "--no-cache", "--jobs", "1", "--exit-zero", str(CLAIMS), "--counterexamples", str(wanted)],
                 ["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "--scenarios", str(wanted)],
                 ["schema", "--out", str(wanted)]):
        status, _, err = cli(capsys, *argv)
        assert status == 2 and err.startswith(f"{wanted}: error[E504]"), (argv, err)


def _full_disk() -> None:  # in the child: every write to a file fails as on a full disk (EFBIG, not a signal)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


@pytest.mark.parametrize("argv", [["run", "{bad}"], ["validate", "{bad}"], ["check", "--jobs", "1", "{bad}"],
                                  ["run", "--no-such-option"]])
def test_standard_error_that_cannot_be_written_is_no_traceback(tmp_path: Path, argv: list[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("participants: [\n", encoding="utf-8")
    with open(tmp_path / "stderr", "w") as err:
        done = subprocess.run([sys.executable, "-m", "trackproof", *(a.format(bad=bad) for a in argv)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=err, timeout=60, preexec_fn=_full_disk, check=False,
                              env={**os.environ, "TRACKPROOF_NO_CACHE": "1"})
    assert done.returncode == 2, done.returncode  # the error still gives its exit status
    assert (tmp_path / "stderr").stat().st_size == 0  # nothing could be written, and nothing crashed trying


def _sleeping_check(code_after: str) -> subprocess.Popen[str]:
    small = str(ROOT / "tests" / "claims" / "small.yaml")
    code = ("import sys, time, trackproof.prove.batch as batch; "
            "batch.prove_claim = lambda *args, **kwargs: time.sleep(60); "
            f"sys.argv = ['trackproof', 'check', {small!r}, '--jobs', '2', '--no-cache']; {code_after}")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _workers_gone(group: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_sigterm_stops_the_workers_and_exits_143_without_a_traceback() -> None:
    run = _sleeping_check("from trackproof.cli import entry; entry()")
    time.sleep(3)  # the workers are asleep in their first claim by then
    run.send_signal(signal.SIGTERM)  # to the command only, as a supervisor or `timeout` does
    out, err = run.communicate(timeout=60)
    assert run.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err and out == ""
    assert _workers_gone(run.pid)


def test_workers_do_not_outlive_a_parent_killed_outright() -> None:
    run = _sleeping_check("from trackproof.cli import entry; entry()")
    time.sleep(3)
    run.kill()  # SIGKILL: the parent cannot stop its workers; the system does (PR_SET_PDEATHSIG)
    run.communicate(timeout=60)  # returns only once every holder of its pipes, the workers too, is gone
    assert _workers_gone(run.pid)


_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["X", "C", "E1", "sync", ""]),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                           st.sampled_from(["id", "to", "from", "X", "kind", "send"]), inner, max_size=3),
                       max_leaves=6)


def _paths(doc: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*path, i))
    return found


@settings(derandomize=True, max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_scenario_with_any_value_anywhere_loads_and_plays_or_is_refused(model: Model, tmp_path: Path,
                                                                          data: st.DataObject) -> None:
    """Any value put in any place of a valid scenario: it plays, or it is refused with a code; nothing else."""
    doc = yaml.safe_load(SEND + "expect:\n  E1: {stored: true}\n")
    places = _paths(doc)
    where = data.draw(st.sampled_from(places[1:]))
    target = doc
    for step in where[:-1]:
        target = target[step]  # type: ignore[index]
    target[where[-1]] = data.draw(_VALUES)  # type: ignore[index]
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with contextlib.suppress(TrackproofError):  # refused with a code: fine; anything else fails the test
        simulate(model, load_scenario(path, model))


@settings(derandomize=True, max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_claim_file_with_any_value_anywhere_loads_or_is_refused(model: Model, tmp_path: Path,
                                                                  data: st.DataObject) -> None:
    from trackproof.spec.claims import load_claims

    doc = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))
    doc["claims"] = doc["claims"][:2]
    where = data.draw(st.sampled_from(_paths(doc)[1:]))
    target = doc
    for step in where[:-1]:
        target = target[step]  # type: ignore[index]
    target[where[-1]] = data.draw(_VALUES)  # type: ignore[index]
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with contextlib.suppress(TrackproofError):
        load_claims(path, model)


def test_gaps_and_diff_read_the_model_folder_given(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    machine = model / "machines" / "server_side_sync.yaml"  # gaps explores the model: its rules' words show
    machine.write_text(machine.read_text(encoding="utf-8").replace(
        "is tracked at the next sync, whatever the filter.", "is tracked (this model's words)."), encoding="utf-8")
    gaps = trackproof(["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "--model-dir", str(model)], tmp_path,
                      timeout=120)
    assert gaps.status == 0 and "this model's words" in gaps.out, gaps.err
    shipped = trackproof(["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE], tmp_path, timeout=120)
    assert shipped.status == 0 and "this model's words" not in shipped.out
    legacy = model / "machines" / "outlook_client.yaml"  # diff's modes are the model's machines
    legacy.write_text(legacy.read_text(encoding="utf-8").replace("mode:", "mode: 7\nunused:", 1), encoding="utf-8")
    broken = trackproof(["diff", "server_side_sync", "outlook_client", "--model-dir", str(model)], tmp_path)
    assert_refused(broken, "E104", where=f"{legacy}:")


@pytest.mark.parametrize(("writes", "delay"), [("--scenarios", 0.4), ("--scenarios", 0.8), ("--scenarios", 1.2),
                                               ("--counterexamples", 0.6), ("--counterexamples", 1.0)])
def test_sigterm_at_any_moment_leaves_no_temporary_file_and_no_worker(tmp_path: Path, writes: str,
                                                                       delay: float) -> None:
    """A signal while the command loads, explores, proves or writes: exit 143 (or 0 if it was done), one line, no
    traceback (Z3's ctypes calls once turned the signal's exception into an internal error), no file half-written,
    no worker left."""
    folder = tmp_path / "out"
    command = (["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE] if writes == "--scenarios" else
               ["check", "--no-cache", "--jobs", "2", "--exit-zero", str(CLAIMS)])
    run = subprocess.Popen([sys.executable, "-m", "trackproof", *command, writes, str(folder)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           env={**os.environ, "TRACKPROOF_NO_CACHE": "1"})
    time.sleep(delay)  # somewhere in loading, exploring, proving or writing
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    # 143: stopped by its handler; 0: done before the signal; -15: still starting up, before the handler (and before
    # anything is written), as on a busy machine
    assert run.returncode in (0, 143, -signal.SIGTERM), err
    assert "Traceback" not in err and "internal error" not in err, err
    left = os.listdir(folder) if folder.exists() else []
    assert [n for n in left if n.startswith(".")] == []
    assert _workers_gone(run.pid, within=1.0)
