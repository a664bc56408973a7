"""Writing output files so that nothing already there is lost: a temporary file beside the target, then a rename.

What `-o`, `--out`, `--counterexamples` and `--scenarios` write goes through `write_atomic`:
- a regular file (or none yet) is replaced atomically: a failure or a kill never leaves it half-written; a new file
  gets the mode the umask gives, an existing one keeps its own mode;
- a symbolic link is followed: the file it points to is replaced, the link stays;
- anything that is not a regular file (a device such as /dev/null or /dev/stdout, a FIFO) is written through, never
  replaced: renaming over /dev/null would replace the system's /dev/null;
- a folder is refused with the path given (never the temporary name).
This module does no reading; reading input files safely is spec/yamlsrc.py's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, path) from None
        return
    folder, name = os.path.split(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    except OSError as exc:  # name the file asked for, not the temporary one beside it
        raise OSError(exc.errno, exc.strerror, path) from None
    try:
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, path) from None
        raise
