"""The command line: JSON contract, determinism, atomic output, exit codes, no z3 on the run path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import EXAMPLES, cli

EXAMPLE = str(EXAMPLES / "sss-reply-to-crm-email.yaml")
CONTRACT = {"stored", "status", "direction", "regarding", "accepted_by", "correlated_to", "reason", "rules"}


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "run", EXAMPLE, "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert set(doc["emails"]) == {"E1", "E2"}
    for email in doc["emails"].values():
        assert set(email) >= CONTRACT
        assert email["status"] in {"draft", "pending_send", "sent", "failed", "received", None}
        assert email["direction"] in {"incoming", "outgoing", None}
        assert isinstance(email["rules"], list) and email["rules"]
    assert doc["emails"]["E2"]["correlated_to"] == "E1"
    assert doc["expectations"] == {"met": 8, "failed": []}


def test_output_is_byte_identical_across_runs(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    first = cli(capsys, "run", *files, "--format", "json")[1]
    second = cli(capsys, "run", *files, "--format", "json")[1]
    assert first == second
    assert len(json.loads(first)) == len(files)


def test_unmet_expectation_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(Path(EXAMPLE).read_text(encoding="utf-8").replace("E1: {stored: true, status: sent}",
                                                                      "E1: {stored: true, status: received}"))
    status, out, _ = cli(capsys, "run", str(path))
    assert status == 1
    assert "NOT met" in out and "E1.status: expected \"received\", got \"sent\"" in out


def test_output_file_is_written_atomically(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous result\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("participants: [\n")
    assert cli(capsys, "run", str(bad), "-o", str(target))[0] == 2
    assert target.read_text() == "previous result\n"  # a failed run loses nothing
    assert cli(capsys, "run", EXAMPLE, "-o", str(target), "--format", "json")[0] == 0
    assert json.loads(target.read_text())["emails"]["E1"]["stored"] is True
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.json")] == []


def test_run_never_imports_z3() -> None:
    code = ("import sys; from trackproof.cli import main; "
            f"rc = main(['run', {EXAMPLE!r}, '-o', '/dev/null']); "
            "assert rc == 0, rc; assert 'z3' not in sys.modules, 'z3 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _exit_codes(*command: str) -> set[int]:
    result = subprocess.run([sys.executable, "-m", "trackproof", *command, "--help"], capture_output=True, text=True,
                            check=True)
    listed = result.stdout.split("exit codes:\n", 1)[1]
    return {int(line.split()[0]) for line in listed.splitlines() if line.strip()}


def test_python_dash_m_and_help_lists_the_exit_codes_each_command_can_give() -> None:
    assert _exit_codes("run") == {0, 1, 2, 4, 130, 143}
    assert _exit_codes("check") == {0, 1, 2, 3, 4, 130, 143}
    assert _exit_codes("diagrams") == _exit_codes("gaps") == _exit_codes("diff") == {0, 2, 4, 130, 143}
    assert _exit_codes() == {0, 1, 2, 3, 4, 130, 143}


def test_validate_reports_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "validate", EXAMPLE)
    assert status == 0
    assert out.startswith("model: 4 machines, 10 states")
    assert "  reading: R91 (What does turning off 'Use correlation to track email conversations' block?) defaults to " \
           "header_only; also gates_filters, all_correlation" in out
    assert "proposed for RULES.md" in out and "R91" in out.split("proposed:")[1]


def test_watch_an_expression_along_the_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "run", EXAMPLE, "--format", "json", "--watch", "E2.stored and E2.regarding == OPP")
    assert status == 0
    values = json.loads(out)["watch"]["values"]
    assert [v["value"] for v in values] == [False, False, False, True]  # stored once the reply is synced
    status, _, err = cli(capsys, "run", EXAMPLE, "--watch", "E2.bogus")
    assert status == 2 and "error[E203]" in err
    code = ("import sys; from trackproof.cli import main; "
            f"rc = main(['run', {EXAMPLE!r}, '--watch', 'E1.stored', '-o', '/dev/null']); "
            "assert rc == 0, rc; assert 'z3' not in sys.modules, 'z3 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_check_jobs_must_be_a_positive_number(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli(capsys, "check", f"--jobs={value}")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "at least 1" in err and "Traceback" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_an_error_not_a_silent_success() -> None:
    # the command leaves without the interpreter's teardown (cli.entry): what is still buffered must not be lost
    code = "import sys; sys.argv = ['trackproof', 'validate']; from trackproof.cli import entry; entry()"
    with open("/dev/full", "w") as full:  # every write fails: no space left on device
        done = subprocess.run([sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=60, check=False, env={**os.environ, "PYTHONUNBUFFERED": ""})
    assert done.returncode == 2, done.stderr
    assert "error[E504]" in done.stderr and "Traceback" not in done.stderr


def test_ctrl_c_stops_the_workers_and_exits_130_without_a_traceback() -> None:
    small = str(Path(__file__).parent / "claims" / "small.yaml")
    code = ("import sys, time, trackproof.prove.batch as batch; batch.prove_claim = lambda *args, **kwargs: time.sleep(60); "
            f"sys.argv = ['trackproof', 'check', {small!r}, '--jobs', '2', '--no-cache']; "
            "from trackproof.cli import entry; entry()")
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    time.sleep(3)  # the workers are asleep in their first claim by then
    os.killpg(run.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and out == ""
    with pytest.raises(ProcessLookupError):  # no worker left behind
        os.killpg(run.pid, 0)


def test_a_worker_killed_mid_proof_stops_the_run_instead_of_hanging() -> None:
    small = str(Path(__file__).parent / "claims" / "small.yaml")
    code = ("import os, trackproof.prove.batch as batch; batch.prove_claim = lambda *args, **kwargs: os._exit(9); "
            "from trackproof.cli import main; "
            f"raise SystemExit(main(['check', {small!r}, '--jobs', '2', '--no-cache']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 4, done.stderr
    assert "internal error" in done.stderr and "Traceback" not in done.stderr
