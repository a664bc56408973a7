"""What an exploration may take, and how far it has got: the least number of worlds a universe certainly has (for
E408 before any work), and progress lines on a terminal.

Apart from reach.py so that the exploration reads as the algorithm: this module only counts and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TextIO

from ..simulate.alphabet import instances
from ..simulate.engine import Simulator
from ..simulate.state import capture, world_key
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .brute import play_each
from .rulepaths import premise_under

PROGRESS_EVERY = 2.0  # seconds between progress lines

__all__ = ["PROGRESS_EVERY", "least_worlds", "progress_stream", "report_progress_to", "show_progress"]


@dataclass
class _Progress:
    """Where explorations report their progress: a terminal (cli/check.py sets it before workers are forked, so
    that they inherit it), or None."""

    stream: TextIO | None = None


_progress = _Progress()


def report_progress_to(stream: TextIO | None) -> None:
    """Progress lines of long explorations go to `stream` (None: nowhere)."""
    _progress.stream = stream


def progress_stream() -> TextIO | None:
    return _progress.stream


def show_progress(line: str) -> None:
    stream = _progress.stream
    assert stream is not None
    stream.write(f"\r{line}\033[K")
    stream.flush()


def least_worlds(model: Model, claim: Claim, defaults: dict[Setting, Any],
                 omit: frozenset[str]) -> tuple[int, int, int]:
    """(the least number of worlds, different first messages S, messages k the alphabet may make): under the
    defaults alone, S different first messages can be sent from the start, and the messages are made in order (E1,
    E2, ...), so there are at least the sum of S**i for i up to k worlds (the real number is far larger: syncs,
    replies and actions multiply it). Nothing to count (0) when the alphabet makes fewer than two messages."""
    u = claim.universe
    assert u is not None
    free = u.messages - sum(1 for e in u.prefix if e.kind == "send")
    if free < 2:
        return 0, 0, free
    scenario = premise_under(claim, defaults)
    sim = Simulator(model, scenario, explain=False)
    firsts = [e for e in instances(replace(u, prefix=()), sim.world, 1)
              if e.kind == "send" and "reply_to" not in e.params and "forward_of" not in e.params]
    played = play_each(model, claim, scenario, capture(sim.world), firsts, 1)
    sent = {world_key(after.world, omit) for _, after in played if after is not None}
    return sum(len(sent) ** k for k in range(free + 1)), len(sent), free
