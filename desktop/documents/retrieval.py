"""Finding the passages that answer a question: BM25 and vectors, fused by rank.

Reciprocal rank fusion needs no score calibration between the two lists, which matters
because BM25 scores and cosine similarities live on unrelated scales. Hits next to each
other in one file are joined, and the result is cut to a token budget for the prompt.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop.documents.embedder import Embedder
from desktop.documents.index import Collection, DocumentIndex
from desktop.documents.passages import estimate_tokens

RRF_K = 60  # the constant from Cormack et al.; ranks past ~60 barely count
CANDIDATES = 50  # from each list before fusing
COMMON_SHARE = 0.3  # a word in more passages than this share is left out of BM25

_STOP = set("""a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is
it its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself
yourselves""".split())


@dataclass
class Hit:
    passage_id: int
    collection: str
    file_id: int
    path: str
    seq: int
    page: int | None
    heading: str
    text: str
    start: int
    end: int
    score: float  # fused, 0..1 (1: first in every list used)
    bm25_rank: int | None = None
    vector_rank: int | None = None


@dataclass
class Source:
    """One numbered source of an answer: what the prompt quotes and the window shows."""

    number: int
    collection: str
    path: str
    page: int | None
    heading: str
    text: str
    snippet: str
    highlights: list[tuple[int, int]]  # spans of snippet holding the question's words
    score: float
    passage_ids: list[int] = field(default_factory=list)
    start: int = 0
    end: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "collection": self.collection, "path": self.path,
                "page": self.page, "heading": self.heading, "snippet": self.snippet,
                "highlights": [list(h) for h in self.highlights], "score": round(self.score, 4),
                "passage_ids": self.passage_ids, "start": self.start, "end": self.end}

    def marked_snippet(self, left: str = "[", right: str = "]") -> str:
        return mark(self.snippet, self.highlights, left, right)


def mark(snippet: str, highlights: list[tuple[int, int]], left: str = "[", right: str = "]") -> str:
    """The snippet with each highlighted span between left and right."""
    out, last = [], 0
    for a, b in highlights:
        out += [snippet[last:a], left, snippet[a:b], right]
        last = b
    return "".join(out) + snippet[last:]


def snippet_for(text: str, query: str) -> tuple[str, list[tuple[int, int]]]:
    """A short extract of text around the query's words, and where those words are in it."""
    return _snippet(text, query_words(query))


def query_words(text: str) -> list[str]:
    words = re.findall(r"\w+", text.lower())
    kept = [w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(kept or words))


class _VectorCache:
    """A collection's vectors as one float32 matrix, reloaded when the collection changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, str], tuple[int, np.ndarray, np.ndarray]] = {}

    def get(self, index: DocumentIndex, collection: Collection,
            model: str) -> tuple[np.ndarray, np.ndarray]:
        generation = index.generation(collection.id)
        key = (collection.id, model)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == generation:
                return entry[1], entry[2]
        rows = index.conn.execute(
            "SELECT p.id, p.vector FROM passages p JOIN files f ON f.id = p.file_id"
            " WHERE p.collection_id = ? AND p.vector IS NOT NULL AND f.model = ?",
            (collection.id, model)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if rows:
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
        else:
            matrix = np.zeros((0, 1), dtype=np.float32)
        with self._lock:
            self._entries[key] = (generation, ids, matrix)
        return ids, matrix


class Retriever:
    """Searches collections through one DocumentIndex connection (use one per thread)."""

    def __init__(self, index: DocumentIndex,
                 embedder_for: Callable[[Collection], Embedder | None] | None = None) -> None:
        self.index = index
        self.embedder_for = embedder_for or (lambda c: None)
        self._vectors = _VectorCache()
        # how many passages hold each word, kept while the collections' generations add up to
        # the first value (a stale count would only change which common words are skipped);
        # the second value is the number of passages
        self._frequencies: tuple[int, int, dict[str, int]] = (-1, 0, {})

    def search(self, names: list[str], query: str, limit: int = 10,
               mode: str = "hybrid") -> list[Hit]:
        """Ranked passages from the named collections; mode "bm25" leaves vectors out."""
        fused: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        lists_used = 0
        query_vectors: dict[str, np.ndarray] = {}
        for name in names:
            collection = self.index.get(name)
            for rank, pid in enumerate(self._bm25(collection, query)):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
                ranks.setdefault(pid, {})["bm25"] = rank + 1
            embedder = self.embedder_for(collection) if mode == "hybrid" else None
            if embedder is None:
                continue
            vector = query_vectors.get(embedder.name)
            if vector is None:
                vector = query_vectors[embedder.name] = embedder.query(query)
            for rank, pid in enumerate(self._nearest(collection, embedder.name, vector)):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
                ranks.setdefault(pid, {})["vector"] = rank + 1
            lists_used = 2
        best = 2.0 if lists_used == 2 else 1.0
        top = sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
        hits = self._hits([pid for pid, _ in top])
        for hit in hits:
            hit.score = fused[hit.passage_id] * (RRF_K + 1) / best
            hit.bm25_rank = ranks[hit.passage_id].get("bm25")
            hit.vector_rank = ranks[hit.passage_id].get("vector")
        return sorted(hits, key=lambda h: -h.score)

    def sources(self, names: list[str], query: str, budget_tokens: int, limit: int = 8,
                mode: str = "hybrid") -> list[Source]:
        """The best passages, neighbours in one file joined, fitted to budget_tokens."""
        hits = self.search(names, query, limit * 2, mode)
        groups: list[list[Hit]] = []
        for hit in hits:
            for group in groups:
                if group[0].file_id == hit.file_id and any(
                        abs(h.seq - hit.seq) == 1 and h.page == hit.page for h in group):
                    group.append(hit)
                    break
            else:
                groups.append([hit])
        words = query_words(query)
        sources: list[Source] = []
        used = 0
        for group in groups:
            if len(sources) >= limit:
                break
            group.sort(key=lambda h: h.seq)
            text = _join(group)
            cost = estimate_tokens(text) + 16  # the source's header line
            if used + cost > budget_tokens:
                continue  # a smaller source further down may still fit
            used += cost
            snippet, marks = _snippet(text, words)
            first = group[0]
            sources.append(Source(len(sources) + 1, first.collection, first.path, first.page,
                                  first.heading, text, snippet, marks,
                                  max(h.score for h in group), [h.passage_id for h in group],
                                  first.start, group[-1].end))
        return sources

    # -- the two rankings ----------------------------------------------------------------

    def _bm25(self, collection: Collection, query: str) -> list[int]:
        words = self._distinctive(query_words(query))
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        # Rank in the full-text index first, then keep this collection's: sorting the
        # joined rows costs twice as much. Other collections may crowd the first rows
        # out, so a short answer from a full window is asked again the slow way.
        window = CANDIDATES * 4
        rows = self.index.conn.execute(
            "SELECT p.id FROM (SELECT rowid, bm25(passages_fts, 1.0, 0.5) AS score"
            " FROM passages_fts WHERE passages_fts MATCH ? ORDER BY score LIMIT ?) f"
            " JOIN passages p ON p.id = f.rowid WHERE p.collection_id = ?"
            " ORDER BY f.score LIMIT ?",
            (match, window, collection.id, CANDIDATES)).fetchall()
        if len(rows) < CANDIDATES and self._other_collections(collection):
            rows = self.index.conn.execute(
                "SELECT p.id FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid"
                " WHERE passages_fts MATCH ? AND p.collection_id = ?"
                " ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?",
                (match, collection.id, CANDIDATES)).fetchall()
        return [r[0] for r in rows]

    def _distinctive(self, words: list[str]) -> list[str]:
        """The query's words less those in so many passages that they barely rank.

        Scoring costs time for every passage a word is in, and a word in a fifth of all
        passages adds almost nothing to BM25 (its weight, log(N/n), is near zero), so
        such words are left out unless nothing else is left."""
        if len(words) < 2:
            return words
        state = self.index.conn.execute(
            "SELECT coalesce(sum(generation), 0) FROM collections").fetchone()[0]
        if self._frequencies[0] != state:
            total = self.index.conn.execute("SELECT count(*) FROM passages").fetchone()[0]
            self._frequencies = (state, total, {})
        _, total, known = self._frequencies
        for word in words:
            if word not in known:
                known[word] = self.index.conn.execute(
                    "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
                    (f'"{word}"',)).fetchone()[0]
        counts = {w: known[w] for w in words}
        kept = [w for w in words if counts[w] <= total * COMMON_SHARE]
        return kept or sorted(words, key=counts.__getitem__)[:2]

    def _other_collections(self, collection: Collection) -> bool:
        row = self.index.conn.execute(
            "SELECT 1 FROM collections WHERE id != ? LIMIT 1", (collection.id,)).fetchone()
        return row is not None

    def _nearest(self, collection: Collection, model: str, vector: np.ndarray) -> list[int]:
        ids, matrix = self._vectors.get(self.index, collection, model)
        if not len(ids) or matrix.shape[1] != vector.shape[0]:
            return []
        scores = matrix @ vector
        k = min(CANDIDATES, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [int(ids[i]) for i in top]

    def _hits(self, ids: list[int]) -> list[Hit]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.index.conn.execute(
            "SELECT p.id, c.name, f.id, f.path, p.seq, p.page, p.heading, p.text, p.start,"
            f' p."end" FROM passages p JOIN files f ON f.id = p.file_id'
            f" JOIN collections c ON c.id = p.collection_id WHERE p.id IN ({marks})",
            ids).fetchall()
        return [Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], 0.0)
                for r in rows]


def _join(group: list[Hit]) -> str:
    """Neighbouring passages as one text, their overlap written once."""
    text, end = group[0].text, group[0].end
    for hit in group[1:]:
        if hit.start < end:
            text += hit.text[end - hit.start:]
        else:
            text += "\n" + hit.text
        end = max(end, hit.end)
    return text


def _stem(word: str) -> str:
    """A crude stem, so "weighted" also marks "weight" (the index itself uses Porter's)."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _snippet(text: str, words: list[str], width: int = 240) -> tuple[str, list[tuple[int, int]]]:
    """A window of text around the densest matches, with the matched words' spans."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(_stem(w)) for w in words) + r")\w*",
                         re.IGNORECASE) if words else None
    matches = list(pattern.finditer(text)) if pattern else []
    start = 0
    if matches:
        best = max(range(len(matches)), key=lambda i: sum(
            1 for m in matches[i:] if m.start() - matches[i].start() < width))
        start = max(0, matches[best].start() - 40)
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if start and space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    raw = text[start:end]
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    snippet = lead + " ".join(raw.split()) + tail
    marks: list[tuple[int, int]] = []
    if pattern:
        marks = [(m.start(), m.end()) for m in pattern.finditer(snippet)]
    return snippet, marks
