"""The durable local spool: every document waits here until the cluster has it.

SQLite from the standard library (WAL journal, ``synchronous=FULL``): one
file, transactions that put documents and the ring cursor together (so a
crash at any point either has both or neither), ordered reads by an
autoincrement key, no extra dependency, and a format anyone can inspect
with ``sqlite3``.

Tables: ``docs`` (the queue, in arrival order), ``dead`` (documents the
cluster refused for a reason a resend cannot fix, kept with the error),
``state`` (the shipper's cursor and loss totals, as text).

Bound: :attr:`Spool.max_bytes` counts the bytes of the documents' JSON
bodies in ``docs``. When a put would go beyond it, the oldest *metric*
documents are dropped first; only when no metric document is left are the
oldest *events* dropped. Every dropped document is counted (by kind) and
the totals survive restarts (table ``state``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import orjson

from vppcomp.exporter.shipper.documents import EVENT, METRIC, Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    stream TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_by_kind ON docs (kind, seq);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    stream TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Spooled(NamedTuple):
    """A document as read back from the spool."""

    seq: int
    kind: str
    stream: str
    id: str
    body: str  # JSON text


class Spool:
    """A bounded, durable FIFO of documents (see the module docstring)."""

    def __init__(self, path: str | Path, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.path = str(path)
        self.max_bytes = max_bytes
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # 16 KiB pages for a new file (an existing one keeps its size): a
        # document is about 1 KiB, and 4 KiB pages cost a third more CPU per put
        self._db.execute("PRAGMA page_size=16384")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.bytes, self.count = self._db.execute(
            "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM docs"
        ).fetchone()
        self.dropped = {
            EVENT: int(self.state("dropped:" + EVENT) or 0),
            METRIC: int(self.state("dropped:" + METRIC) or 0),
        }

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def state(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, docs: Sequence[Document], state: dict[str, str] | None = None) -> dict[str, int]:
        """Append ``docs`` and set ``state`` in one transaction, then enforce
        the bound. Returns the documents dropped to make room, by kind."""
        rows = []
        added = 0
        for doc in docs:
            body = orjson.dumps(doc.body, option=orjson.OPT_SERIALIZE_NUMPY).decode()
            rows.append((doc.kind, doc.stream, doc.id, body, len(body)))
            added += len(body)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO docs (kind, stream, id, body, size) VALUES (?, ?, ?, ?, ?)", rows
            )
            for key, value in (state or {}).items():
                db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))
            self.bytes += added
            self.count += len(rows)
            dropped = self._enforce_bound()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self.bytes, self.count = db.execute(
                "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM docs"
            ).fetchone()
            raise
        return dropped

    def _enforce_bound(self) -> dict[str, int]:
        dropped = {EVENT: 0, METRIC: 0}
        for kind in (METRIC, EVENT):
            while self.bytes > self.max_bytes:
                victims = self._db.execute(
                    "SELECT seq, size FROM docs WHERE kind = ? ORDER BY seq LIMIT 1000", (kind,)
                ).fetchall()
                if not victims:
                    break
                excess = self.bytes - self.max_bytes
                chosen = []
                freed = 0
                for seq, size in victims:
                    if freed >= excess:
                        break
                    chosen.append(seq)
                    freed += size
                self._db.execute(
                    f"DELETE FROM docs WHERE seq IN ({','.join('?' * len(chosen))})", chosen
                )
                self.bytes -= freed
                self.count -= len(chosen)
                dropped[kind] += len(chosen)
        for kind, n in dropped.items():
            if n:
                self.dropped[kind] += n
                self._db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                    ("dropped:" + kind, str(self.dropped[kind])),
                )
        return dropped

    def peek(self, limit: int) -> list[Spooled]:
        """The oldest ``limit`` documents, oldest first (they stay spooled)."""
        return [
            Spooled(*row)
            for row in self._db.execute(
                "SELECT seq, kind, stream, id, body FROM docs ORDER BY seq LIMIT ?", (limit,)
            )
        ]

    def ack(self, seqs: Iterable[int]) -> None:
        """Remove delivered documents (one range delete per run of consecutive
        ``seq``: a batch acknowledged whole is one statement)."""
        runs = _runs(sorted(set(seqs)))
        if not runs:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        freed = removed = 0
        for low, high in runs:
            size, count = db.execute(
                "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM docs WHERE seq BETWEEN ? AND ?",
                (low, high),
            ).fetchone()
            db.execute("DELETE FROM docs WHERE seq BETWEEN ? AND ?", (low, high))
            freed += size
            removed += count
        db.execute("COMMIT")
        self.bytes -= freed
        self.count -= removed

    def bury(self, doc: Spooled, reason: str, error: str) -> None:
        """Move a document the cluster refused for good to ``dead``."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT OR REPLACE INTO dead (seq, kind, stream, id, body, reason, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.seq, doc.kind, doc.stream, doc.id, doc.body, reason, error[:2000]),
        )
        (size,) = db.execute("SELECT size FROM docs WHERE seq = ?", (doc.seq,)).fetchone() or (0,)
        cursor = db.execute("DELETE FROM docs WHERE seq = ?", (doc.seq,))
        db.execute("COMMIT")
        self.bytes -= size
        self.count -= cursor.rowcount

    def dead(self) -> list[tuple[str, str, str]]:
        """``(id, reason, error)`` of every refused document."""
        return list(self._db.execute("SELECT id, reason, error FROM dead ORDER BY seq"))


def _runs(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ``seqs`` as ``(first, last)`` runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for seq in seqs:
        if runs and runs[-1][1] == seq - 1:
            runs[-1] = (runs[-1][0], seq)
        else:
            runs.append((seq, seq))
    return runs
