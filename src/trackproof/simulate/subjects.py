"""Subjects as smart matching sees them, and the stored email a new one smart-matches (R46).

Smart matching hashes each subject's words, after its noise filter (HashFilterKeywords) has stripped leading
"word:" prefixes, and each distinct From/To/Cc/Bcc address; two emails correlate when their subject hashes agree
(HashDeltaSubjectCount 0) and at least HashMinAddressCount (2) address hashes match. This module computes only
which stored email that would be, with the documented defaults, from what mail itself shows (subjects, addresses,
which tracking token a subject would carry); whether smart matching is on, whether the tokens agree, and what a match
does, is the model's (`smart_correlates`, `correlation_target`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .world import Message, World

#: HashFilterKeywords' documented default: leading "word:" prefixes (RE:, FW:, Fwd:); a phrase such as
#: "Out of office:" or "Automatic reply:" is not one word and stays (R129).
HASH_FILTER_KEYWORDS = r"^[\s]*([\w]+\s?:[\s]*)+"
#: HashMinAddressCount's default: at least this many From/To/Cc/Bcc addresses in common.
MIN_ADDRESSES = 2


def addresses(world: World, msg: Message) -> set[str]:
    """The distinct addresses of the From, To, Cc and Bcc lines."""
    return {world.parties[p].address for p in (msg.author, *msg.to, *msg.cc, *msg.bcc)}


def subject_words(msg: Message) -> tuple[str, ...]:
    """What smart matching hashes of a subject line: the words left after the noise filter, in lower case."""
    return tuple(re.sub(HASH_FILTER_KEYWORDS, "", msg.subject).lower().split())


def smart_match(world: World, msg: Message) -> Message | None:
    """The most recent stored earlier message whose subject words equal `msg`'s and that shares at least
    MIN_ADDRESSES addresses with it, unless the two subjects would carry different tracking tokens. Whether the
    tokens themselves agree (a token is one more subject word, R46) is the model's to check (`smart_correlates`
    compares `has_token`): a token is an effect of the send rule, which this module does not read. Which of several
    candidates smart matching picks is not documented; the most recent is taken."""
    words = subject_words(msg)
    mine = addresses(world, msg)
    token = msg.shared.get("token_of")
    for other in sorted(world.messages.values(), key=lambda m: -m.order):
        if other.order >= msg.order or not world.message_stored(other):
            continue
        theirs = other.shared.get("token_of")
        if token is not None and theirs is not None and token != theirs:
            continue
        if subject_words(other) == words and len(mine & addresses(world, other)) >= MIN_ADDRESSES:
            return other
    return None
