"""Writing output files so that nothing already there is lost: a temporary file beside the target, then a rename.

What `-o`, `--out`, `--counterexamples` and `--scenarios` write goes through `write_atomic`:
- a regular file (or none yet) is replaced atomically: a failure or a kill never leaves it half-written; a new file
  gets the mode the umask gives, an existing one keeps its own mode;
- the temporary file is removed on any failure and on the signals the command handles (cli: SIGINT, SIGTERM,
  SIGHUP); only `kill -9` while it is written can leave one, which the next run of a command that writes a folder
  (`gaps --scenarios`, `check --counterexamples`) removes;
- a symbolic link is followed: the file it points to is replaced, the link stays;
- anything that is not a regular file (a device such as /dev/null or /dev/stdout, a FIFO) is written through, never
  replaced: renaming over /dev/null would replace the system's /dev/null; a FIFO that no process reads is refused
  after a second (opening it would wait for a reader forever);
- a folder is refused with the path given (never the temporary name).
`is_temporary` tells the name of such a temporary file. This module does no reading (inputs.py does).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from typing import IO

#: The name of a temporary file beside `name` ("." name "." and eight letters or digits), as a pattern.
TEMPORARY = r"\.{name}\.[A-Za-z0-9_]{{8}}"


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` as described in the module docstring; an OSError names `path`."""
    target = os.path.realpath(path)  # a symbolic link: its target is written, the link kept
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OSError(errno.EISDIR, "is a folder", path)
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:  # a device or a FIFO: written through, never replaced
            with _open_through(target, stat.S_ISFIFO(info.st_mode)) as handle:
                handle.write(text)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, path) from None
        return
    folder, name = os.path.split(target)
    mode = stat.S_IMODE(info.st_mode) if info is not None else None
    try:
        _write_named(folder, name, target, text, mode)
    except OSError as exc:  # name the file asked for, not the temporary one beside it
        raise OSError(exc.errno, exc.strerror, path) from None


def make_folder(path: str, named: str | None = None) -> None:
    """os.makedirs(path, exist_ok=True), an OSError naming `named` (default `path`: the folder asked for), not the
    deepest parent that could not be made (`--counterexamples /proc/x/y` said "/proc/x")."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path if named is None else named) from None


#: Seconds a FIFO written to may take to get a reader (a reader started just after the command is usual).
FIFO_WAIT = 1.0


def _open_through(target: str, fifo: bool) -> IO[str]:
    """A device or a FIFO opened for writing. Opening a FIFO waits for a process to read it, forever if none comes:
    it is asked without waiting, again for FIFO_WAIT seconds, then refused (ENXIO: nothing reads it); once open, it
    is written as any file."""
    if not fifo:
        return open(target, "w", encoding="utf-8")
    deadline = time.monotonic() + FIFO_WAIT
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if time.monotonic() > deadline:
                raise OSError(errno.ENXIO, f"a FIFO that no process read within {FIFO_WAIT:g} s", target) from None
            time.sleep(0.02)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", encoding="utf-8")


def _write_named(folder: str, name: str, target: str, text: str, mode: int | None) -> None:
    """Write a temporary file beside `target`, then rename it over `target`. A new file is created with mode 0o666,
    which the system narrows by the umask (so the umask is honoured without being read); `mode`: an existing
    file's, which the new one takes."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(16):
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", target)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def is_temporary(name: str, beside: str) -> bool:
    """Whether `name` is the name of a temporary file write_atomic makes beside the file named `beside`."""
    return re.fullmatch(TEMPORARY.format(name=re.escape(beside)), name) is not None
