"""Output files (files.write_atomic) through every option that writes one: a new file gets the mode the umask gives,
an existing one keeps its mode, a symbolic link stays a link to the file written, a FIFO or a character device is
written through (never replaced), a failure or an interruption leaves no temporary file; the folders gaps
--scenarios and check --counterexamples write lose the files of earlier runs they own, and nothing else."""

from __future__ import annotations

import os
import pty
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackproof import files

from .conftest import cli
from .hostile import CLAIMS, GAPS_UNIVERSE, SCENARIO, SETTINGS

#: Each option that writes one file, as (arguments before the path, arguments after it).
WRITERS = {
    "run -o": (["run", str(SCENARIO), "-o"], []),
    "check -o": (["check", "--jobs", "1", "--exit-zero", str(CLAIMS), "-o"], []),
    "gaps -o": (["gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "-o"], []),
    "diff -o": (["diff", str(SETTINGS), "server_side_sync", "-o"], []),
}


@pytest.fixture
def umask() -> Iterator[int]:
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def _write(capsys: pytest.CaptureFixture[str], writer: str, path: Path) -> str:
    before, after = WRITERS[writer]
    status, out, err = cli(capsys, *before, str(path), *after)
    assert status == 0 and out == "", err
    return err


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_new_file_honours_the_umask_and_an_existing_one_keeps_its_mode(capsys: pytest.CaptureFixture[str],
                                                                         tmp_path: Path, umask: int,
                                                                         writer: str) -> None:
    path = tmp_path / "out"
    _write(capsys, writer, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not 0600, as a bare temporary file would be
    path.chmod(0o604)
    path.write_text("old\n", encoding="utf-8")
    _write(capsys, writer, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o604 and path.read_text(encoding="utf-8") != "old\n"
    assert os.listdir(tmp_path) == ["out"]  # no temporary file left


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_symbolic_link_stays_a_link_to_the_file_written(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          writer: str) -> None:
    target, link = tmp_path / "target", tmp_path / "link"
    target.write_text("old\n", encoding="utf-8")
    link.symlink_to(target)
    _write(capsys, writer, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") != "old\n"


def _drain(path: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as handle:
            into.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_fifo_is_written_through_never_replaced(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  writer: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _drain(fifo, got)
    _write(capsys, writer, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and got and got[0]


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_fifo_nobody_reads_is_refused_not_waited_for(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      writer: str) -> None:
    """Opening a FIFO for writing waits for a reader: with none, every command waited forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    before, after = WRITERS[writer]
    status, _, err = cli(capsys, *before, str(fifo), *after)
    assert status == 2 and "error[E504]" in err and "no process read" in err, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_written_through_never_replaced(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    """A pseudo-terminal this test opens stands for /dev/null or /dev/stdout (reached through a link in tmp)."""
    leader, follower = pty.openpty()
    try:
        device = tmp_path / "device"
        device.symlink_to(os.ttyname(follower))
        _write(capsys, "run -o", device)
        os.set_blocking(leader, False)
        assert b"stored" in os.read(leader, 1 << 16).lower()
        assert device.is_symlink() and stat.S_ISCHR(os.stat(device).st_mode)
    finally:
        os.close(leader)
        os.close(follower)


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    path.write_text("kept\n", encoding="utf-8")
    real = os.replace

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt  # as Ctrl-C (or cli's exception for SIGTERM) arrives during the write

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(str(path), "new\n")
    monkeypatch.setattr(os, "replace", real)
    assert os.listdir(tmp_path) == ["out.txt"] and path.read_text(encoding="utf-8") == "kept\n"


def test_gaps_scenarios_removes_its_stale_files_and_nothing_else(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "missed"
    status, _, err = cli(capsys, "gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "--scenarios", str(folder))
    assert status == 0, err
    written = sorted(os.listdir(folder))
    assert written and all(n.endswith(".yaml") for n in written)
    stale = ["gap-G99.yaml", f".{written[0]}.k1ll3d9x"]  # an earlier run's, a killed run's
    mine = ["notes.yaml", "contact-emails-x-99-setup1.yaml", "gap-G1-old.yaml", ".hidden",
            f".{written[0]}.kept"]  # the user's: not gaps' names (the first an older trackproof's)
    for name in stale + mine:
        (folder / name).write_text("x\n", encoding="utf-8")
    status, _, err = cli(capsys, "gaps", "--jobs", "1", str(CLAIMS), *GAPS_UNIVERSE, "--scenarios", str(folder))
    assert status == 0, err
    assert sorted(os.listdir(folder)) == sorted(written + mine)


def test_check_counterexamples_removes_the_files_of_claims_that_now_hold(capsys: pytest.CaptureFixture[str],
                                                                         tmp_path: Path) -> None:
    folder = tmp_path / "cex"
    status, _, err = cli(capsys, "check", "--jobs", "1", "--exit-zero", str(CLAIMS), "--counterexamples", str(folder))
    assert status == 0, err
    written = sorted(os.listdir(folder))
    proved = "small-always"  # a claim of the file that holds: an earlier run may have left a counterexample
    assert f"{proved}.yaml" not in written
    for name in (f"{proved}.yaml", f"{written[0].removesuffix('.yaml')}-2.yaml", f".{written[0]}.abcd1234",
                 "other-claim.yaml"):
        (folder / name).write_text("x\n", encoding="utf-8")
    status, _, err = cli(capsys, "check", "--jobs", "1", "--exit-zero", str(CLAIMS), "--counterexamples", str(folder))
    assert status == 0, err
    assert sorted(os.listdir(folder)) == sorted([*written, "other-claim.yaml"])
