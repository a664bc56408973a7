"""Malformed and hostile input gets `file:line:col: error[CODE]`, the line, a caret, and exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import cli

GOOD = """\
participants:
  X: {kind: user, approved: true, enabled: true}
  C: {kind: contact}
events:
  - send: {id: E1, from: X, to: [C], via: crm}
  - sync
"""

SCENARIOS = {
    "malformed-yaml": ("participants: {X: [\n", "E102", 2),
    "duplicate-key": (GOOD.replace("  C: {kind: contact}", "  C: {kind: contact}\n  C: {kind: lead}"), "E103", 4),
    "unknown-participant": (GOOD.replace("to: [C]", "to: [Z]"), "E401", 5),
    "unknown-setting": (GOOD.replace("enabled: true}", "enabled: true, filtr: all}"), "E402", 2),
    "bad-setting-value": (GOOD.replace("enabled: true}", "enabled: true, filter: everything}"), "E402", 2),
    "wrong-type": (GOOD.replace("approved: true", "approved: 'yes please'"), "E402", 2),
    "unknown-event": (GOOD.replace("  - sync", "  - explode"), "E106", 6),
    "queue-with-outlook": (GOOD.replace("C: {kind: contact}", "C: {kind: queue, incoming: outlook}"), "E403", 3),
    "reply-to-unsent": (GOOD.replace("  - sync", "  - send: {id: E2, from: C, to: [X], reply_to: E1}"), "E404", 6),
    "unknown-email": (GOOD + "  - track: {email: E9, by: X}\n", "E405", 7),
    "expect-unknown-field": (GOOD + "expect:\n  E1: {sent: true}\n", "E406", 8),
    "not-a-mapping": ("- just\n- a list\n", "E104", 1),
    # values of the wrong type were shown as Python prints them ("Scenario: ['x']"), and tags were ignored
    "name-a-list": ("name: [x]\n" + GOOD, "E104", 1),
    "description-a-mapping": ("description: {a: b}\n" + GOOD, "E104", 1),
    "owner-a-list": (GOOD.replace("C: {kind: contact}", "C: {kind: contact, owner: [X]}"), "E104", 3),
    "address-a-list": (GOOD.replace("C: {kind: contact}", "C: {kind: contact, address: [a, b]}"), "E104", 3),
    "python-tag": ('name: !!python/object/apply:os.system ["echo x"]\n' + GOOD, "E102", 1),
    "custom-tag": (GOOD.replace("C: {kind: contact}", "C: {kind: !custom contact}"), "E102", 3),
    "binary-tag": ("name: !!binary aGVsbG8=\n" + GOOD, "E102", 1),
    # a participant named as an owner of settings or a word of the expression language could not be referred to
    "reserved-org": (GOOD.replace("C: {kind: contact}", "org: {kind: contact}"), "E402", 3),
    "reserved-emails": (GOOD.replace("C: {kind: contact}", "emails: {kind: contact}"), "E402", 3),
    "reserved-keyword": (GOOD.replace("C: {kind: contact}", "None: {kind: contact}"), "E402", 3),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bad_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    text, code, line = SCENARIOS[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    status, out, err = cli(capsys, "run", str(path))
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    assert re.match(rf"{re.escape(str(path))}:{line}:\d+: error\[{code}\]: ", err), err
    assert "^" in err.splitlines()[2]


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = cli(capsys, "run", str(tmp_path / "nope.yaml"))
    assert status == 2
    assert "error[E101]" in err


@pytest.mark.parametrize("command", ["run", "check", "validate"])
def test_an_error_about_a_whole_file_is_placed_at_its_start(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                             command: str) -> None:
    """A file that cannot be read at all (missing, a folder, too large) still gets `file:line:col`: 1:1."""
    big = tmp_path / "big.yaml"
    big.write_text("#" * (600 * 1024), encoding="utf-8")
    for path, code in ((tmp_path / "nope.yaml", "E101"), (tmp_path, "E107"), (big, "E108")):
        status, _, err = cli(capsys, command, str(path))
        assert status == 2 and err.startswith(f"{path}:1:1: error[{code}]: "), (command, err)


MODEL_BREAKS = {
    # file, text to replace, replacement, expected code
    "import": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"__import__('os')\"", "E202"),
    "dunder": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"().__class__\"", "E202"),
    "eval-call": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"eval('1')\"", "E205"),
    "lambda": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"(lambda: True)()\"", "E202"),
    "unknown-field": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"email.optin\"", "E203"),
    "type-error": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"email.origin\"", "E204"),
    "bad-value": ("machines/none.yaml", "guard: \"email.origin != 'crm'\"", "guard: \"email.origin != 'crmm'\"",
                  "E207"),
    "no-source": ("machines/none.yaml", "    sources: [D2, D20]\n", "", "E301"),
    "unknown-rule": ("machines/none.yaml", "implements: [R34]", "implements: [R999]", "E302"),
    "overconfident": ("machines/server_side_sync.yaml", "implements: [R35, R36, R60]\n    sources: [D2, D3, B1, D12]\n"
                      "    confidence: M", "implements: [R35, R36, R60]\n    sources: [D2, D3, B1, D12]\n"
                      "    confidence: H", "E306"),
    "overlap": ("machines/none.yaml", "guard: \"email.origin == 'crm' and unresolved_blocked()\"",
                "guard: \"email.origin == 'crm'\"", "E305"),
    "unreachable": ("machines/none.yaml", "    from: composed\n    to: delivered",
                    "    from: composed\n    to: draft", "E304"),
    "recursion": ("definitions.yaml", "expr: \"p.kind in {'user', 'queue'}\"", "expr: \"dynamics(p)\"", "E308"),
}


@pytest.mark.parametrize("name", sorted(MODEL_BREAKS))
def test_bad_model(capsys: pytest.CaptureFixture[str], model_copy: Path, name: str) -> None:
    rel, old, new, code = MODEL_BREAKS[name]
    path = model_copy / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test fixture out of date: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    status, out, err = cli(capsys, "validate", "--model-dir", str(model_copy))
    assert status == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert re.match(rf".*{re.escape(rel)}:\d+:\d+: error\[{code}\]: ", err), err


def test_expression_error_points_at_the_offending_column(capsys: pytest.CaptureFixture[str],
                                                         model_copy: Path) -> None:
    path = model_copy / "machines/none.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("guard: \"email.origin != 'crm'\"", "guard: \"email.origin != 'crm' and org.nope\""),
                    encoding="utf-8")
    status, _, err = cli(capsys, "validate", "--model-dir", str(model_copy))
    assert status == 2
    head, source, caret = err.splitlines()[:3]
    column = int(head.split(":")[2])
    assert source.strip().startswith("guard:")
    assert source[caret.index("^"):].startswith("org.nope")
    assert column == len(caret) - 4  # the caret sits under the column the message names


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(capsys, "run")
    assert exc.value.code == 2


def test_unwritable_outputs_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    example = str(Path(__file__).resolve().parent.parent / "examples" / "sss-send-from-crm.yaml")
    afile = tmp_path / "afile"
    afile.write_text("x")
    for argv in (["run", example, "-o", str(tmp_path / "missing" / "out.json")],
                 ["run", example, "-o", str(tmp_path)],
                 ["diagrams", "--format", "dot", "--out", str(afile)]):
        status, _, err = cli(capsys, *argv)
        assert status == 2 and "error[E504]" in err and "Traceback" not in err, argv
    missing = str(tmp_path / "missing" / "out.json")
    err = cli(capsys, "run", example, "-o", missing)[2]
    assert err.startswith(f"{missing}: error[E504]")  # the path asked for, not a temporary file beside it


@pytest.mark.parametrize("content", ['{"claims": "x"}', '{"emails": []}', '{"emails": {"E1": {"steps": 5}}}', "[]",
                                     '"str"', '{"classes": 3, "missed": []}', "not json", "[5]",
                                     '[{"email": 1' + "0" * 5000 + ', "rule": "r", "from": "a", "to": "b"}]',
                                     '[{"email": "E1", "rule": "r", "from": "a"}]'])
def test_bad_trace_for_highlight(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str) -> None:
    """Refused with what is wrong in the trace's terms, never Python's ("TypeError 'int' object is not iterable",
    "Exceeds the limit (4300 digits) for integer string conversion" were shown)."""
    trace = tmp_path / "trace.json"
    trace.write_text(content)
    status, _, err = cli(capsys, "diagrams", "--highlight", str(trace), "--out", str(tmp_path / "d"))
    code = "E111" if content == "not json" or "0" * 5000 in content else "E503"  # malformed JSON; else no trace
    assert status == 2 and f"error[{code}]" in err, err
    assert not any(word in err for word in ("Error", "'int' object", "subscriptable", "digits")), err


@pytest.mark.parametrize(("content", "code"), [
    ("settings:\n  org: {use_correlation: maybe}\n", "E402"), ("settings:\n  org: {deployment: moon}\n", "E402"),
    ("settings:\n  org: [use_correlation]\n", "E104"), ("settings:\n  user: {}\n", "E106"), ("foo: 1\n", "E106"),
    ("", "E105"), ("settings:\n  org: {nope: true}\n", "E402"),
])
def test_bad_settings_file_for_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str,
                                    code: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content)
    status, _, err = cli(capsys, "diff", str(path), "server_side_sync")
    assert status == 2 and f"error[{code}]" in err, err


def test_an_unknown_participant_in_a_list_points_at_the_item(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("to: [C]", "to: [C, Z]"), encoding="utf-8")
    status, _, err = cli(capsys, "run", str(path))
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "[C, Z]" in text)
    column = path.read_text(encoding="utf-8").splitlines()[line - 1].index("Z") + 1
    assert status == 2 and err.startswith(f"{path}:{line}:{column}: error[E401]: unknown participant 'Z'"), err


def test_an_unknown_way_to_send_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`via: pigeon` was answered "say how X sends E1", as if no `via` was given."""
    path = tmp_path / "pigeon.yaml"
    path.write_text("participants: {X: {kind: user}, C: {kind: contact}}\nevents:\n"
                    "  - send: {id: E1, from: X, to: [C], via: pigeon}\n", encoding="utf-8")
    status, _, err = cli(capsys, "run", str(path))
    assert status == 2 and "error[E402]: 'pigeon' is not a way X can send E1" in err, err


CLAIM = """\
claims:
  - id: T1
    text: "t"
    scope:
      fixed: {X.incoming: sss, X.approved: true, X.enabled: true}
      free: [X.filter]
    participants: {X: {kind: user}, C: {kind: contact}}
    events:
      - send: {id: E1, from: C, to: [X]}
      - sync
    conclusion: "E1.stored"
"""


@pytest.mark.parametrize("command", ["check", "gaps", "report"])
def test_a_claim_id_in_two_claim_files_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  command: str) -> None:
    """Counterexample files, report anchors and the consistency section are named by claim id: two claims with one
    id (in two files) once wrote one counterexample over the other."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(CLAIM, encoding="utf-8")
    b.write_text(CLAIM.replace('"E1.stored"', '"not E1.stored"'), encoding="utf-8")
    extra = ["-o", str(tmp_path / "pack")] if command == "report" else []
    status, out, err = cli(capsys, command, "--jobs", "1", *extra, str(a), str(b))
    assert status == 2 and out == ""
    assert err.startswith(f"{b}:2:5: error[E307]: claim id 'T1' is used twice (first at {a}:2:5)"), err
    assert not (tmp_path / "pack").exists()


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(GOOD, encoding="utf-8")
    claims = tmp_path / "c.yaml"
    claims.write_text(CLAIM, encoding="utf-8")
    for argv, path in ((["run", str(scenario), "-o", str(scenario)], scenario),
                       (["check", str(claims), "--format", "json", "-o", str(tmp_path / "." / "c.yaml")], claims)):
        before = path.read_bytes()
        status, out, err = cli(capsys, *argv)
        assert status == 2 and out == "" and "error[E504]" in err and "is also an input file" in err, err
        assert path.read_bytes() == before


def test_empty_output_paths_are_refused_and_a_dash_is_standard_output(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(GOOD, encoding="utf-8")
    claims = tmp_path / "c.yaml"
    claims.write_text(CLAIM, encoding="utf-8")
    for argv in (["run", str(scenario), "-o", ""], ["check", str(claims), "--counterexamples", ""]):
        status, out, err = cli(capsys, *argv)
        assert status == 2 and out == "" and "error[E501]" in err and "names no path" in err, err
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli(capsys, "run", str(scenario), "-o", "-")
    assert status == 0 and out.startswith("Scenario: ")
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(("change", "code", "said"), [
    (('text: "t"', "text: [a]"), "E104", "'text' of a claim must be text (a string), not a list"),
    (('text: "t"', 'text: "t"\n    reading: 5'), "E104", "'reading' of a claim must be text (a string), not a number"),
    (("claims:", "title: 5\nclaims:"), "E104", "'title' of a claim file must be text"),
    (("C: {kind: contact}", "C: {kind: [[contact]]}"), "E104", "a list of kinds holds kinds (words)"),
])
def test_claim_text_of_the_wrong_type_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 change: tuple[str, str], code: str, said: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CLAIM.replace(*change), encoding="utf-8")
    status, out, err = cli(capsys, "check", "--jobs", "1", str(path))
    assert status == 2 and out == "" and f"error[{code}]: {said}" in err, err


UNIVERSE = """\
claims:
  - id: U1
    text: "t"
    universe:
      participants: {X: {kind: user}, Y: {kind: user}, C: {kind: contact}}
      messages: 1
    alphabet:
      - send: {from: C, to: TO}
      - sync
    reachable: "any(e.exists for e in emails)"
"""


@pytest.mark.parametrize(("to", "said"), [
    ("[[]]", "a 'send' entry with no recipient"),
    ("[]", "a 'send' entry with no recipient"),
    ("[[X], []]", "a 'send' entry with no recipient"),
    ("[{a: b}]", "'to' lists participant ids (words), not lists or mappings"),
    ("[X, [Y]]", "'to' lists participant ids (words), not lists or mappings"),
])
def test_an_alphabet_send_to_nobody_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, to: str,
                                                said: str) -> None:
    """`to: [[]]` was explored as an email with no recipient (`send: {from: C}` is E105)."""
    path = tmp_path / "u.yaml"
    path.write_text(UNIVERSE.replace("TO", to), encoding="utf-8")
    status, out, err = cli(capsys, "check", "--no-cache", "--jobs", "1", str(path))
    assert status == 2 and out == "" and re.match(rf"{re.escape(str(path))}:8:\d+: error\[E104\]: {re.escape(said)}",
                                                  err), err


def test_a_recipient_list_may_be_empty_where_another_is_not(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(UNIVERSE.replace("to: TO", "to: [[X], []], cc: [[Y]]"), encoding="utf-8")
    status, _, err = cli(capsys, "check", "--no-cache", "--jobs", "1", str(path))
    assert status in (0, 1), err


@pytest.mark.parametrize(("change", "said"), [
    (("X.incoming: sss", "X.incoming: outlook"), "its fixed settings break the legacy Dynamics 365 for Outlook client "
                                                 "is retired online"),
    (('conclusion: "E1.stored"', "assume: \"X.filter == 'all' and X.filter == 'no_email'\"\n    conclusion: "
                                 '"E1.stored"'), "the claim's assume can never hold there"),
])
def test_a_scope_with_no_setting_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          change: tuple[str, str], said: str) -> None:
    """A claim whose fixed settings break a constraint of the vocabulary was VACUOUS with nothing after "nothing is
    proved:"."""
    path = tmp_path / "c.yaml"
    path.write_text(CLAIM.replace(*change), encoding="utf-8")
    status, out, _ = cli(capsys, "check", "--no-cache", "--jobs", "1", str(path))
    assert status == 1 and "VACUOUS" in out and f"nothing is proved: no setting is in the claim's scope: {said}" in out


def test_an_error_after_non_ascii_text_in_an_expression_points_at_it(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    """ast counts columns in UTF-8 bytes: after an 'é' the error named the wrong text ("of outcome '1.'")."""
    path = tmp_path / "c.yaml"
    path.write_text(CLAIM.replace('"E1.stored"', "\"('éé',) != ('b',) and E1.bogus\""), encoding="utf-8")
    status, _, err = cli(capsys, "check", "--no-cache", "--jobs", "1", str(path))
    head, source, caret = err.splitlines()[:3]
    assert status == 2 and "unknown field 'bogus' of outcome 'E1'" in head, err
    assert source[caret.index("^"):].startswith("E1.bogus")
