"""What the hostile-input tests share: the commands, each with where it takes a file, the hostile inputs to give
them, and a run of the real `trackproof` command (cli.entry, in a subprocess: a hang is a timeout, not a stuck test
run) that checks the contract: exit 2, a `file:line:col: error[CODE]` line, no traceback, within the time bound,
and nothing written but what was asked for."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "examples" / "sss-contact-emails-filter-all.yaml"
CLAIMS = ROOT / "tests" / "claims" / "small.yaml"
#: `gaps` explores every sequence of a universe: tests that only need it to write something explore this small
#: one (seconds) rather than the claims' own (a minute)
GAPS_UNIVERSE = ["--universe", str(ROOT / "tests" / "universes" / "gaps-small.yaml")]
SETTINGS = ROOT / "examples" / "settings" / "defaults.yaml"
TIME_BOUND = 2.0  # seconds a refusal may take (issue 11), the interpreter's start included
HANG = 30.0  # a run still going after this long is a hang
ERROR_LINE = re.compile(r"^(?P<where>\S.*?): error\[(?P<code>E\d{3})\]: ", re.MULTILINE)

#: Each command with the place of one input file in its arguments ({} is the file), the kind of file it reads there.
COMMANDS: dict[str, tuple[list[str], str]] = {
    "run": (["run", "{}"], "yaml"),
    "validate": (["validate", "{}"], "yaml"),
    "check": (["check", "--no-cache", "--jobs", "1", "{}"], "yaml"),
    "gaps": (["gaps", "--jobs", "1", "{}"], "yaml"),
    "report": (["report", "--jobs", "1", "--no-cache", "-o", "out", "{}"], "yaml"),
    "diff": (["diff", "{}", str(SETTINGS)], "yaml"),
    "diagrams --compare": (["diagrams", "--format", "dot", "--out", "out", "--compare", "{}", str(SETTINGS)], "yaml"),
    "diagrams --swimlanes": (["diagrams", "--format", "dot", "--out", "out", "--swimlanes", "{}"], "yaml"),
    "diagrams --highlight": (["diagrams", "--format", "dot", "--out", "out", "--highlight", "{}"], "json"),
}


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        name, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its mode, size and time, and the digest of its bytes when it is a small
    regular file (links, FIFOs and the sparse gigabyte of the tests are not read); the caches (.cache, where
    `trackproof` below keeps them) aside: a hit marks its entry used."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.relative_to(folder).parts[0] == ".cache":
            continue
        info = path.lstat()
        seen = f"{info.st_mode:o}:{info.st_size}:{info.st_mtime_ns}"
        if stat.S_ISREG(info.st_mode) and info.st_size < 1 << 20:
            seen += ":" + hashlib.sha256(path.read_bytes()).hexdigest()
        out[str(path.relative_to(folder))] = seen
    return out


class Result:
    def __init__(self, status: int, out: str, err: str, seconds: float) -> None:
        self.status, self.out, self.err, self.seconds = status, out, err, seconds

    @property
    def codes(self) -> list[str]:
        return [m.group("code") for m in ERROR_LINE.finditer(self.err)]


def trackproof(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = HANG,
               preexec: Callable[[], None] | None = None) -> Result:
    """`trackproof ARGS` as a user runs it (cli.entry), in `cwd`, with the caches in `cwd`."""
    environment = {**os.environ, "TRACKPROOF_CACHE": str(cwd / ".cache"), **(env or {})}
    environment.pop("TRACKPROOF_NO_CACHE", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "trackproof", *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=timeout, check=False, preexec_fn=preexec, stdin=subprocess.DEVNULL)
    return Result(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)


def assert_refused(result: Result, code: str | tuple[str, ...], where: str | None = None) -> None:
    """Exit 2, one error line with the code (one of the codes) where it says, no traceback, within the bound."""
    codes = (code,) if isinstance(code, str) else code
    assert result.status == 2, (result.status, result.err)
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    found = ERROR_LINE.search(result.err)
    assert found is not None and found.group("code") in codes, result.err
    if where is not None:
        assert found.group("where").startswith(where), result.err
    assert result.seconds < TIME_BOUND, f"{result.seconds:.2f} s: {result.err}"
