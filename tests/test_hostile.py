"""Hostile input to every command: each command that reads a file, given every kind of hostile file, exits 2 with a
`file:line:col: error[CODE]` message, no traceback, within the time bound, and changes no file (issue 11). The
commands run as users run them (`python -m trackproof`, in a subprocess): a hang is a timeout here, not a stuck
test run. The model files themselves are mutated in test_model_fuzz.py; caches in test_cache.py; output files in
test_files.py."""

from __future__ import annotations

import os
import pty
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .hostile import (
    CLAIMS,
    COMMANDS,
    ROOT,
    SCENARIO,
    SETTINGS,
    Result,
    assert_refused,
    billion_laughs,
    snapshot,
    trackproof,
)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder to run in (its model cache warmed once), and a pseudo-terminal whose device a link points to."""
    folder = tmp_path_factory.mktemp("hostile")
    assert trackproof(["run", str(SCENARIO)], folder).status == 0  # fills the model cache: each refusal is timed alone
    leader, follower = pty.openpty()
    (folder / "terminal").symlink_to(os.ttyname(follower))  # a character device, reached through a link in tmp
    yield folder
    os.close(leader)
    os.close(follower)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _huge(path: Path) -> None:
    with open(path, "wb") as handle:  # sparse: a gigabyte that costs nothing on disk
        handle.truncate(1 << 30)


def _text(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return make


def _link(target: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.symlink_to(target)

    return make


#: Hostile files of every kind any command reads, with the code each must get and whether it has a line.
FILES: dict[str, tuple[Callable[[Path], None], tuple[str, ...], bool]] = {
    "fifo": (_fifo, ("E107",), False),
    "folder": (_folder, ("E107",), False),
    "character device": (_link("../terminal"), ("E107",), False),
    "a gigabyte": (_huge, ("E108",), False),
    "dangling link": (_link("nowhere"), ("E101",), False),
    "link loop": (_link("input"), ("E101",), False),
    "not utf-8": (_text(b"name: caf\xe9\n"), ("E101",), True),
    "billion laughs": (_text(billion_laughs()), ("E109",), True),
    "recursive alias": (_text("x: &a [*a]\n"), ("E109",), True),
    "nested 100 deep": (_text("x: " + "[" * 100 + "]" * 100 + "\n"), ("E110",), True),
    "nested 100000 deep": (_text("[" * 100_000), ("E110",), True),
}
JSON_FILES: dict[str, tuple[Callable[[Path], None], tuple[str, ...], bool]] = {
    "json nested 100000 deep": (_text("[" * 100_000 + "]" * 100_000), ("E110",), True),
    "json nested 70 deep in a trace": (_text('{"claims": [' + "[" * 70 + "]" * 70 + "]}"), ("E110",), True),
    "malformed json": (_text('{"claims": [1, 2,, 3]}'), ("E111",), True),
    "json lone surrogate": (_text('[{"email": "\\ud800", "event": 1}]'), ("E111",), True),
    "json over 4 MiB": (_text("[" + "1," * (2 << 20) + "1]"), ("E108",), False),
}


def _cases() -> Iterator[tuple[str, str]]:
    for command, (_, kind) in COMMANDS.items():
        for name in FILES:
            if kind == "yaml" or name in ("fifo", "folder", "character device", "a gigabyte", "dangling link",
                                          "link loop", "not utf-8", "nested 100000 deep"):
                yield command, name
        if kind == "json":
            yield from ((command, name) for name in JSON_FILES)


def _expect(result: Result, codes: tuple[str, ...], with_line: bool, path: Path) -> None:
    assert_refused(result, codes, where=str(path))
    if with_line:
        assert result.err.split(": error[")[0].count(":") >= 2, result.err  # file:line:col


@pytest.mark.parametrize(("command", "case"), list(_cases()))
def test_every_command_refuses_every_hostile_file(place: Path, command: str, case: str) -> None:
    make, codes, with_line = {**FILES, **JSON_FILES}[case]
    folder = place / f"{command.replace(' ', '')}-{case.replace(' ', '-')}"
    folder.mkdir()
    path = folder / "input"
    make(path)
    before = snapshot(place)
    args, _ = COMMANDS[command]
    result = trackproof([str(path) if a == "{}" else a for a in args], place)
    _expect(result, codes, with_line, path)
    assert result.out == ""
    assert snapshot(place) == before  # nothing written, not even the output folder


#: A valid file for each command, to run it with a hostile model folder.
VALID = {"run": SCENARIO, "validate": SCENARIO, "check": CLAIMS, "gaps": CLAIMS, "report": CLAIMS, "diff": SETTINGS,
         "diagrams --compare": SETTINGS, "diagrams --swimlanes": SCENARIO, "diagrams --highlight": None}


@pytest.mark.parametrize("hostile", ["fifo", "billion laughs"])
def test_a_hostile_model_folder_is_refused_by_every_command(place: Path, hostile: str) -> None:
    """--model-dir with a FIFO as its sources.yaml, or a billion laughs as a machine: refused by every command."""
    model = place / f"model-{hostile.replace(' ', '-')}"
    shutil.copytree(ROOT / "model", model)
    bad = model / ("sources.yaml" if hostile == "fifo" else "machines/none.yaml")
    bad.unlink()
    if hostile == "fifo":
        os.mkfifo(bad)
    else:
        bad.write_text(billion_laughs(), encoding="utf-8")
    before = snapshot(place)
    for command, (args, _) in COMMANDS.items():
        valid = VALID[command]
        given = ["diagrams", "--format", "dot", "--out", "out"] if valid is None else [
            str(valid) if a == "{}" else a for a in args]
        result = trackproof([*given, "--model-dir", str(model)], place)
        assert_refused(result, "E107" if hostile == "fifo" else "E109", where=str(bad))
    assert snapshot(place) == before
