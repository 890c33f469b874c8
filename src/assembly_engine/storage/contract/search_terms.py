"""Search words for code: how a script body and a search query become index terms.

Both backends index the terms this module makes (SQLite FTS5 and PostgreSQL full text
alike), so a query finds the same assemblies on either. A term is a run of letters and
digits, lower-cased: punctuation of code (``-``, ``:``, ``\\``, ``$``, ``.``, ``_``) separates
words, so ``Invoke-WebRequest``, ``HKLM:\\Software\\Foo`` and ``$env:TEMP`` become
``invoke webrequest``, ``hklm software foo`` and ``env temp``. A body also gets the parts of
a mixed-case or lettered-and-numbered word (``WebRequest`` adds ``web request``, ``Win32``
adds ``win 32``), so a search for ``request`` finds ``Invoke-WebRequest``; a query keeps
its words whole, so ``webrequest`` still finds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters and digits (any script); the underscore separates, as in snake_case.
_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
# Longer runs are data (base64, hashes), not words anyone searches for by their middle.
MAX_TERM_CHARS = 64
# Parts of such a word: an acronym before a capitalised word, a capitalised or lower word,
# an acronym, a number (HTTPServer -> http server, getItem2 -> get item 2).
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# A query's words beyond this many are not searched for (a 200-character query has fewer).
MAX_QUERY_TERMS = 32
# A matching line shown to the user is cut to this many characters.
MATCH_LINE_CHARS = 200
# Lines looked at for the matching line of one body (a word on every line of a huge body).
MAX_CANDIDATE_LINES = 200


def _has_parts(word: str) -> bool:
    """An ASCII word that changes case inside or mixes letters and digits."""
    if not word.isascii() or word.isdigit():
        return False
    if word.isalpha():
        return not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower()))
    return True


def body_terms(text: str) -> str:
    """The distinct terms of a body, space-separated: its words, then the parts of mixed
    words. Each term once: the index keeps no positions or counts, and a query needs all
    its terms, so neither repeats nor order matter (a 10 KB script has a few hundred terms
    and thousands of words). One regular expression finds the words; only distinct words
    are looked at again."""
    # The ASCII class means the same for ASCII text and is matched much faster.
    words = dict.fromkeys((_ASCII_WORD if text.isascii() else _WORD).findall(text))
    kept = [w for w in words if len(w) <= MAX_TERM_CHARS]
    parts = [p for w in kept if _has_parts(w) for p in _PART.findall(w)]
    return " ".join(dict.fromkeys(" ".join(kept + parts).lower().split()))


@dataclass(frozen=True)
class SearchTerms:
    """A query's terms: every one must occur; the last may be the start of a longer word."""

    words: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.words

    def fts5_match(self) -> str:
        """An FTS5 MATCH expression: quoted terms (no query syntax can reach FTS5), the last
        one a prefix."""
        quoted = [f'"{w}"' for w in self.words]
        quoted[-1] += "*"
        return " ".join(quoted)

    def tsquery(self) -> str:
        """A PostgreSQL to_tsquery('simple', …) expression of the same meaning."""
        parts = list(self.words)
        parts[-1] += ":*"
        return " & ".join(parts)

    def found_in(self, line: str) -> int:
        """How many of the terms a line holds (the last one as a prefix)."""
        words = set(body_terms(line).split())
        found = sum(1 for w in self.words[:-1] if w in words)
        last = self.words[-1]
        if any(w.startswith(last) for w in words):
            found += 1
        return found


def query_terms(query: str) -> SearchTerms:
    """A search box's text as terms (none when it holds no letters or digits)."""
    words = [w for w in _WORD.findall(query.lower()) if len(w) <= MAX_TERM_CHARS]
    return SearchTerms(tuple(dict.fromkeys(words))[:MAX_QUERY_TERMS])


@dataclass(frozen=True)
class MatchLine:
    """The line of a body that best shows why it matched (1-based), as the list shows it."""

    line: int
    text: str


def best_line(text: str, terms: SearchTerms) -> MatchLine | None:
    """The first line holding the most of the terms, or None if no line holds any.

    Only lines where a term occurs as text are split into words, found by searching the
    lower-cased body for each term (a page of hits costs its lines, not its bodies)."""
    if terms.empty:
        return None
    lowered = text.lower()
    starts: set[int] = set()
    for word in terms.words:
        at = lowered.find(word)
        while at != -1 and len(starts) < MAX_CANDIDATE_LINES:
            line_start = lowered.rfind("\n", 0, at) + 1
            starts.add(line_start)
            next_line = lowered.find("\n", at)
            at = -1 if next_line == -1 else lowered.find(word, next_line)
    best: MatchLine | None = None
    best_found = 0
    for start in sorted(starts):
        end = text.find("\n", start)
        line = text[start:] if end == -1 else text[start:end]
        found = terms.found_in(line)
        if found > best_found:
            number = text.count("\n", 0, start) + 1
            best, best_found = MatchLine(number, line.strip()[:MATCH_LINE_CHARS]), found
            if found == len(terms.words):
                break
    return best
