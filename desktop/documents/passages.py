"""Cutting a document into passages: whole paragraphs where possible, sized in tokens.

Passages never cross a section (a page or a heading), so each one has one page and one
heading path; neighbours overlap a little so an answer split across a cut is still found.
Each passage's text is an exact slice of its document's text, which lets retrieval join
neighbours without repeating the overlap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from desktop.documents.readers import Document

TARGET_TOKENS = 200  # one idea or so: small enough to rank sharply, big enough to answer from
OVERLAP_TOKENS = 30
CHARS_PER_TOKEN = 4.0  # WordPiece/BPE on English prose; code and other scripts run denser


def estimate_tokens(text: str) -> int:
    """Tokens a text takes, estimated without a tokenizer (for BM25-only collections)."""
    return max(1, round(len(text) / CHARS_PER_TOKEN))


_WORD = re.compile(r"\S+")
LONGEST_WORD = 200  # longer "words" (base64, minified code) are estimated, not sent


class ModelTokenCounter:
    """Tokens as an embedding model counts them, word by word.

    Tokenizers split text at spaces before anything else, so a text's count is the sum of
    its words' counts (give or take one where words meet). The model runs in an engine host,
    so each distinct word is counted there once: learn() sends a document's new words in one
    request, and counting passages afterwards needs no more round trips.
    """

    REMEMBERED = 200_000  # distinct words kept; a wider vocabulary starts afresh

    def __init__(self, count_words: Callable[[list[str]], list[int]]) -> None:
        self._count_words = count_words
        self._known: dict[str, int] = {}

    def learn(self, text: str) -> None:
        new = sorted({w for w in _WORD.findall(text)
                      if w not in self._known and len(w) <= LONGEST_WORD})
        if len(self._known) + len(new) > self.REMEMBERED:
            self._known.clear()
        for start in range(0, len(new), 4096):  # keeps each request a modest size
            words = new[start:start + 4096]
            self._known.update(zip(words, self._count_words(words), strict=True))

    def __call__(self, text: str) -> int:
        known = self._known
        # An unknown long word is dense (base64 and the like): about two characters a token.
        return max(1, sum(known[w] if w in known else len(w) // 2 + 1
                          for w in _WORD.findall(text)))


@dataclass
class Passage:
    seq: int  # order within the file
    text: str
    page: int | None
    heading: str
    start: int  # character offsets into the document's text (sections joined by SEPARATOR)
    end: int
    tokens: int


SEPARATOR = "\n\n"
_BREAKS = re.compile(r"\n\s*\n")  # paragraph breaks
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n")


def document_text(document: Document) -> str:
    return SEPARATOR.join(s.text for s in document.sections)


def split_passages(document: Document, target: int = TARGET_TOKENS, overlap: int = OVERLAP_TOKENS,
                   count: Callable[[str], int] = estimate_tokens) -> list[Passage]:
    """The passages of a document, in order."""
    passages: list[Passage] = []
    offset = 0
    for section in document.sections:
        for start, end in _pieces(section.text, target, overlap, count):
            text = section.text[start:end]
            if text.strip():
                passages.append(Passage(len(passages), text, section.page, section.heading,
                                        offset + start, offset + end, count(text)))
        offset += len(section.text) + len(SEPARATOR)
    return passages


def _units(text: str, target: int, count: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    """Spans of paragraphs; a paragraph longer than a passage is cut at sentences, then words."""
    position = 0
    for match in [*_BREAKS.finditer(text), None]:
        end = match.start() if match else len(text)
        if text[position:end].strip():
            yield from _split_long(text, position, end, target, count)
        position = match.end() if match else len(text)


def _split_long(text: str, start: int, end: int, target: int,
                count: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    if count(text[start:end]) <= target:
        yield start, end
        return
    cuts = [m.end() for m in _SENTENCE.finditer(text, start, end)]
    if len(cuts) < 2:
        cuts = [m.end() for m in re.finditer(r"\s+", text[start:end])]
        cuts = [start + c for c in cuts]
    if not cuts:  # one enormous word (base64, a minified line): cut by size
        step = _step(text[start:end], target, count)
        cuts = list(range(start + step, end, step))
    position = start
    for cut in [*cuts, end]:
        if cut <= position:
            continue
        if count(text[position:cut]) > target:
            yield from _hard_cut(text, position, cut, target, count)
            position = cut
        else:
            yield position, cut
            position = cut


def _step(text: str, target: int, count: Callable[[str], int]) -> int:
    """Characters that hold about target tokens of text, by its own density."""
    return max(1, int(target * len(text) / max(1, count(text))))


def _hard_cut(text: str, start: int, end: int, target: int,
              count: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    step = _step(text[start:end], target, count)
    for position in range(start, end, step):
        yield position, min(end, position + step)


def _pieces(text: str, target: int, overlap: int,
            count: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    """Greedy packing of units up to target tokens, each piece starting with the tail of the
    one before (about overlap tokens, on a unit or word boundary)."""
    units = list(_units(text, target, count))
    i = 0
    while i < len(units):
        start = units[i][0]
        j = i
        while j + 1 < len(units) and count(text[start:units[j + 1][1]]) <= target:
            j += 1
        end = units[j][1]
        yield start, end
        if j + 1 >= len(units):
            return
        # Overlap: the next piece begins at a word about `overlap` tokens before this end.
        back = max(start + 1, end - int(overlap * CHARS_PER_TOKEN))
        space = text.find(" ", back, end)
        if overlap > 0 and space >= 0:
            units[j + 1] = (min(space + 1, units[j + 1][0]), units[j + 1][1])
        i = j + 1
