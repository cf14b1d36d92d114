"""Search over published articles and directory entries: SQLite FTS5 in memory, built at start.

- Ranking: bm25 with field weights (title 10, keywords 5, body 1); the porter stemmer.
- Synonyms and abbreviations (``synonyms.yaml``): a phrase of the query found in a group matches any
  phrase of that group ("OT" finds "occupational therapy" and back).
- Typo tolerance: a query word the index has never seen is replaced by the closest known word
  (shared trigrams, then ``difflib`` similarity), before the query runs.
- Terms are OR-ed: bm25 ranks documents matching more (and rarer) terms first.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cti.config._entries import section
from cti.config._yaml import read_yaml
from knowledge.stopwords import STOPWORDS

SYNONYMS_FILE = Path(__file__).resolve().parent / "synonyms.yaml"
WEIGHTS = (10.0, 5.0, 1.0)  # title, keywords, body
_WORD = re.compile(r"[a-z0-9]+")
_MAX_PHRASE = 5


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    kind: str  # "article" or "directory"
    title: str
    keywords: str
    body: str
    services: tuple[str, ...]
    audience: tuple[str, ...]  # empty: every audience


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    kind: str
    title: str
    snippet: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "snippet": self.snippet,
            "score": round(self.score, 4),
        }


def words(text: str) -> list[str]:
    """Lower-case words; "carer's" is "carer", so possessives match plain forms."""
    text = text.lower().replace("\u2019", "'").replace("'s ", " ").replace("'s", "")
    return _WORD.findall(text.replace("'", ""))


def load_synonyms(path: Path = SYNONYMS_FILE) -> list[tuple[str, ...]]:
    """Groups of equivalent phrases from ``synonyms.yaml`` (``groups: [[OT, occupational therapy]]``)."""
    groups = []
    for index, raw in enumerate(section(read_yaml(path, path.name), path.name, "groups")):
        if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(p, str) for p in raw):
            from cti.domain.errors import ConfigError

            raise ConfigError(path.name, f"item {index + 1}", "(group)", "a group is a list of 2+ phrases")
        groups.append(tuple(" ".join(words(p)) for p in raw))
    return groups


def _quote(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def _trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class Speller:
    """Closest known word for a misspelt one: candidates by shared trigrams, then similarity."""

    def __init__(self, frequency: Counter[str]) -> None:
        self._frequency = frequency
        self._by_gram: dict[str, list[str]] = defaultdict(list)
        for word in frequency:
            if len(word) >= 3 and not word.isdigit():
                for gram in _trigrams(word):
                    self._by_gram[gram].append(word)

    def known(self, word: str) -> bool:
        return word in self._frequency

    def correct(self, word: str) -> str | None:
        if len(word) < 4 or word.isdigit():
            return None
        shared: Counter[str] = Counter()
        for gram in _trigrams(word):
            shared.update(self._by_gram.get(gram, ()))
        candidates = [w for w, _ in shared.most_common(40) if abs(len(w) - len(word)) <= 2]
        best: tuple[float, int, str] | None = None
        for candidate in candidates:
            if len(word) < 6 and candidate[0] != word[0]:
                continue  # short words: "wife" is not a typo of "life"
            ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
            if ratio >= 0.75:
                key = (ratio, self._frequency[candidate], candidate)
                if best is None or key > best:
                    best = key
        return best[2] if best is not None else None


class SearchIndex:
    """An in-memory FTS5 index; safe to share between threads (one lock around the connection)."""

    def __init__(self, docs: Iterable[Doc], synonyms: Iterable[tuple[str, ...]] = ()) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            """
            CREATE VIRTUAL TABLE doc USING fts5(
                title, keywords, body, tokenize = 'porter unicode61 remove_diacritics 2');
            CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, kind TEXT, title TEXT,
                services TEXT, audience TEXT);
            """
        )
        frequency: Counter[str] = Counter()
        rows_doc, rows_meta = [], []
        for rowid, d in enumerate(docs, start=1):
            rows_doc.append((rowid, d.title, d.keywords, d.body))
            audience = " " + " ".join(d.audience) + " " if d.audience else " * "
            rows_meta.append((rowid, d.id, d.kind, d.title, " " + " ".join(d.services) + " ", audience))
            frequency.update(set(words(f"{d.title} {d.keywords} {d.body}")))
        self._db.executemany("INSERT INTO doc(rowid, title, keywords, body) VALUES (?, ?, ?, ?)", rows_doc)
        self._db.executemany("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)", rows_meta)
        self._db.execute("INSERT INTO doc(doc) VALUES ('optimize')")
        self._db.commit()
        self._groups: dict[str, tuple[str, ...]] = {}
        for group in synonyms:
            for phrase in group:
                self._groups[phrase] = group
                frequency.update(phrase.split())
        self._speller = Speller(frequency)
        self._stem_known: dict[str, bool] = {}
        self.size = len(rows_doc)

    def close(self) -> None:
        self._db.close()

    def _known(self, word: str) -> bool:
        """Seen as written, or as a form the stemmer matches ("evicted" finds "eviction")."""
        if self._speller.known(word):
            return True
        found = self._stem_known.get(word)
        if found is None:
            with self._lock:
                row = self._db.execute(
                    "SELECT 1 FROM doc WHERE doc MATCH ? LIMIT 1", (_quote(word),)
                ).fetchone()
            found = row is not None
            if len(self._stem_known) < 10_000:
                self._stem_known[word] = found
        return found

    def match_expression(self, query: str) -> str:
        """The FTS5 query for what a person typed ("" when nothing searchable is left).

        Unknown words are spelt as the closest known word (or dropped); the longest phrase of a synonym
        group at each position becomes an OR of the whole group; other stop words go.
        """
        tokens: list[str] = []
        for word in words(query):
            if word not in STOPWORDS and not self._known(word):
                corrected = self._speller.correct(word)
                if corrected is None:
                    continue
                word = corrected
            tokens.append(word)
        clauses: list[str] = []
        i = 0
        while i < len(tokens):
            for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                group = self._groups.get(" ".join(tokens[i : i + n]))
                if group is not None:
                    clauses.append("(" + " OR ".join(_quote(p) for p in group) + ")")
                    i += n
                    break
            else:
                if tokens[i] not in STOPWORDS:
                    clauses.append(_quote(tokens[i]))
                i += 1
        return " OR ".join(dict.fromkeys(clauses))

    def search(
        self,
        query: str,
        *,
        service: str | None = None,
        audience: str | None = None,
        kind: str | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        expression = self.match_expression(query)
        if not expression:
            return []
        # Snippets are made afterwards for the rows kept: in one query SQLite would make one for
        # every matching row before sorting.
        sql = [
            "SELECT doc.rowid, m.id, m.kind, m.title, bm25(doc, ?, ?, ?) AS rank",
            " FROM doc JOIN meta m ON m.rowid = doc.rowid WHERE doc MATCH ?",
        ]
        params: list[object] = [*WEIGHTS, expression]
        if service is not None:
            sql.append(" AND (instr(m.services, ?) > 0 OR instr(m.services, ' all ') > 0)")
            params.append(f" {service} ")
        if audience is not None:
            sql.append(" AND (instr(m.audience, ?) > 0 OR m.audience = ' * ')")
            params.append(f" {audience} ")
        if kind is not None:
            sql.append(" AND m.kind = ?")
            params.append(kind)
        sql.append(" ORDER BY rank LIMIT ?")
        params.append(limit)
        with self._lock:
            rows = self._db.execute("".join(sql), params).fetchall()
            marks = ", ".join("?" * len(rows))
            snippets = dict(
                self._db.execute(
                    "SELECT rowid, snippet(doc, 2, '', '', '…', 16) FROM doc"
                    f" WHERE doc MATCH ? AND rowid IN ({marks})",
                    [expression, *(r[0] for r in rows)],
                ).fetchall()
                if rows
                else ()
            )
        return [Hit(r[1], r[2], r[3], snippets.get(r[0], ""), -float(r[4])) for r in rows]

    def bare_match(self, term: str, limit: int = 10) -> list[tuple[int, float]]:
        """A plain FTS5 MATCH ranked by bm25, no product code: the bench's ceiling."""
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, rank FROM doc WHERE doc MATCH ? ORDER BY rank LIMIT ?", (term, limit)
            ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]
