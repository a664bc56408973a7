"""`check --model`: no overlap, shadowed or dead rule in the shipped rules; broken copies caught with witnesses."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackproof.prove.modelcheck import check_model
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model

from .conftest import cli


def test_shipped_model_has_no_faults(model: Model) -> None:
    findings = check_model(model)
    assert [f for f in findings if f.kind != "gap"] == []
    gaps = {(f.machine, f.state, f.trigger) for f in findings if f.kind == "gap"}
    assert ("server_side_sync", "pending_send", "sync") in gaps  # stays in Pending Send without a channel (R12)
    assert ("none", "composed", "send") not in gaps  # every way of sending is decided


def _break(model_copy: Path, old: str, new: str) -> Model:
    path = model_copy / "machines" / "server_side_sync.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_model(model_copy)


def test_dead_rule_is_found(model_copy: Path) -> None:
    broken = _break(model_copy, 'guard: "can_send_sss() and missing_address()"',
                    'guard: "can_send_sss() and missing_address() and not mailbox_active(sender)"')
    dead = [f for f in check_model(broken) if f.kind == "dead"]
    assert {(f.state, f.rules) for f in dead} == {("pending_send", ("S-submit-fails",))}


def test_shadowed_rule_is_found(model_copy: Path) -> None:
    broken = _break(model_copy, 'guard: "not_duplicate() and any(folder_tracking(m) for m in email.holders)"',
                    'guard: "not_duplicate()"')
    shadowed = {(f.state, f.rules[0]) for f in check_model(broken) if f.kind == "shadowed"}
    assert ("delivered", "S-accept") in shadowed


def test_check_model_exit_codes(capsys: pytest.CaptureFixture[str], model_copy: Path) -> None:
    status, out, _ = cli(capsys, "check", "--model")
    assert status == 0 and "No overlapping rules" in out
    _break(model_copy, 'guard: "can_send_sss() and missing_address()"',
           'guard: "can_send_sss() and missing_address() and not mailbox_active(sender)"')
    status, out, _ = cli(capsys, "check", "--model", "--model-dir", str(model_copy))
    assert status == 1 and "DEAD server_side_sync: pending_send on sync: S-submit-fails can never fire" in out
