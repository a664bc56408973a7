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
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

#: HashFilterKeywords' documented default: leading "word:" prefixes (RE:, FW:, Fwd:); a phrase such as
#: "Out of office:" or "Automatic reply:" is not one word and stays (R129).
HASH_FILTER_KEYWORDS = r"^[\s]*([\w]+\s?:[\s]*)+"
#: HashMinAddressCount's default: at least this many From/To/Cc/Bcc addresses in common.
MIN_ADDRESSES = 2


class Mail(Protocol):
    """What smart matching reads of a message (world.Message)."""

    subject: str
    author: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    shared: dict[str, Any]


M = TypeVar("M", bound=Mail)


def subject_words(msg: Mail) -> tuple[str, ...]:
    """What smart matching hashes of a subject line: the words left after the noise filter, in lower case."""
    return tuple(re.sub(HASH_FILTER_KEYWORDS, "", msg.subject).lower().split())


def addresses(msg: Mail, address: Callable[[str], str]) -> set[str]:
    """The distinct addresses of the From, To, Cc and Bcc lines (`address`: a participant's address)."""
    return {address(p) for p in (msg.author, *msg.to, *msg.cc, *msg.bcc)}


def smart_match(msg: M, stored_earlier: Iterable[M], address: Callable[[str], str]) -> M | None:
    """The first of `stored_earlier` (the stored messages before `msg`, most recent first) whose subject words equal
    `msg`'s and that shares at least MIN_ADDRESSES addresses with it, unless the two subjects would carry different
    tracking tokens. Whether the tokens themselves agree (a token is one more subject word, R46) is the model's to
    check (`smart_correlates` compares `has_token`): a token is an effect of the send rule, which this module does
    not read. Which of several candidates smart matching picks is not documented; the most recent is taken."""
    words = subject_words(msg)
    mine = addresses(msg, address)
    token = msg.shared.get("token_of")
    for other in stored_earlier:
        theirs = other.shared.get("token_of")
        if token is not None and theirs is not None and token != theirs:
            continue
        if subject_words(other) == words and len(mine & addresses(other, address)) >= MIN_ADDRESSES:
            return other
    return None
