"""The questions each engine answers (``Dialect``); see the package docstring."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upstack.store.bm25 import Phrase
    from upstack.store.db import Database

__all__ = ["Dialect", "LockFactory"]

LockFactory = Callable[[], AbstractContextManager[None]]


class Dialect(ABC):
    """What differs between the engines. ``Database.engine`` is one; both kinds answer the same."""

    name: str  # "sqlite" or "postgresql": for messages, and the migrations that keep their SQL
    real: str  # column type of a float (an IEEE double)
    begin_write: str  # begins a transaction that will write
    begin_snapshot: str  # begins a read-only transaction that sees one state while others write
    # What a bad row raises (a constraint broken), and a value the engine cannot hold (a NUL byte in
    # PostgreSQL text, a huge integer), as opposed to a broken connection.
    integrity_error: type[Exception]
    data_error: type[Exception]
    # A row its index cannot hold (PostgreSQL: a key of more than about 2,700 bytes, "program limit
    # exceeded"): the record that wrote it is bad, to be set aside, not a fault of the server that would
    # keep it waiting in the journal, and every record after it, for good.
    too_large_error: type[Exception]
    # What reading a page too damaged to follow raises (SQLite's "database disk image is malformed");
    # the checks of `upstack doctor` report it as a finding. PostgreSQL's damage is its server's to find.
    damaged_error: type[Exception]
    unmerged: str  # ends a subquery the planner must run by itself, not merge into the query around it
    ordered_join: str  # a join whose left side is read first
    # The full-text index matches a whole OR of phrases and ranks with BM25 itself, over all of it (FTS5).
    index_ranks: bool
    copies_file: bool  # the database is a file, copied by ``copy_to`` (before a migration, in a backup)
    join_text: str  # an aggregate joining text values with a separator: ``{join_text}(column, ' ')``

    # -- statements ------------------------------------------------------------------------------
    @abstractmethod
    def prepare(self, raw: Any) -> None:
        """Set up a new connection for the SQL upstack writes."""

    @abstractmethod
    def placeholders(self, sql: str) -> str:
        """``sql``, written with ``?`` placeholders, as the driver takes it."""

    @abstractmethod
    def executemany(self, raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` once per row, as the driver does it fastest."""

    @abstractmethod
    def tuples(self, raw: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (as the driver takes it) as plain tuples."""

    @abstractmethod
    def exact_float(self, value: float, params: list[Any]) -> str:
        """SQL for ``value`` that the engine reads back as exactly that double (adds to ``params``)."""

    @abstractmethod
    def count_overlapping(self, column: str, pattern: str) -> tuple[str, list[Any]]:
        """SQL counting the occurrences of ``pattern`` in ``column``, overlapping ones too, and its parameters."""

    @abstractmethod
    def rows_with_ids(self, table: str, column: str, ids: str) -> str:
        """``FROM`` text for the rows of ``table`` whose ``column`` is an ``id`` of the CTE ``ids``."""

    @abstractmethod
    def column_types(self, db: Database, table: str) -> dict[str, str]:
        """Each column of ``table`` and its declared type, upper case, as the engine names it."""

    # -- the search index ------------------------------------------------------------------------
    @abstractmethod
    def match(self, phrase: Phrase, params: list[Any]) -> str:
        """SQL over ``entry_search s``, true where the entry holds the phrase (adds to ``params``)."""

    @abstractmethod
    def match_all(self, phrases: Sequence[Phrase], params: list[Any]) -> str:
        """As ``match``, true where the entry holds every one of ``phrases``: one look-up in the index."""

    @abstractmethod
    def whole_index_matches(self, phrase: Phrase) -> tuple[str, list[Any]]:
        """``FROM ... WHERE`` text for the index's rows that hold the phrase (to count them), and its parameters."""

    def first_row(self, select: str) -> str:
        """``select`` cut to its first row, planned to find one fast when no row matches too."""
        return f"{select} LIMIT 1"

    @abstractmethod
    def texts_from(self, join: str = "CROSS JOIN") -> tuple[str, str]:
        """What to add to ``FROM entry_search s`` to read the indexed texts, and the alias they are read from."""

    @abstractmethod
    def add_to_index(self, db: Database, entry_id: str, occurred_at: str, row: dict[str, Any]) -> None:
        """Index an entry: ``row`` is its texts and length (``store.ingest.search_texts``)."""

    @abstractmethod
    def remove_texts(self, db: Database, search_row: dict[str, Any]) -> None:
        """Before a row of ``entry_search`` is deleted: delete its texts kept apart from it, if any."""

    @abstractmethod
    def clear_texts(self, db: Database) -> None:
        """Before every row of ``entry_search`` is deleted: delete the texts kept apart from them, if any."""

    @abstractmethod
    def index_problems(self, db: Database) -> list[tuple[str | None, str]]:
        """What the full-text index's own check finds: (an entry id, or None for the index, and what is wrong)."""

    # -- the database as a whole -----------------------------------------------------------------
    @abstractmethod
    def integrity_problems(self, db: Database) -> list[tuple[str, str]]:
        """Damage the engine finds in its own pages and references: (what is affected, what is wrong)."""

    @abstractmethod
    def copy_to(self, db: Database, target: Path) -> None:
        """Copy the database to the file ``target``, consistently, while others may write (if ``copies_file``)."""

    @abstractmethod
    def stamped_version(self, db: Database) -> int | None:
        """The schema version, read without taking a lock, or None where only ``schema_migrations`` says."""

    @abstractmethod
    def analyze_after_bulk_load(self, db: Database) -> None:
        """After many rows were added at once: let the planner know of them now."""

    @abstractmethod
    def overwrite_deleted(self, db: Database) -> None:
        """Before a purge: make what is deleted from now on overwritten, where the engine can."""

    @abstractmethod
    def scrub(self, db: Database, tables: Sequence[str], lock: LockFactory) -> None:
        """After a purge: push deleted text out of ``tables``, index segments and logs (under ``lock`` if need be)."""

    # -- what caches need (store.cache) ----------------------------------------------------------
    @abstractmethod
    def generation(self, db: Database) -> Hashable:
        """A value that differs after any commit to ``db``'s database, by any connection or process."""

    @abstractmethod
    def identity(self, db: Database) -> Hashable:
        """Which database (and PostgreSQL schema) ``db`` is connected to, the same for every connection."""

    @abstractmethod
    def in_transaction(self, db: Database) -> bool:
        """Whether ``db`` is inside a transaction (whose reads may never be committed)."""
