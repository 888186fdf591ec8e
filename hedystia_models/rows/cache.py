"""The read cache: ``database(..., cache=True)`` keeps what reads returned, for a while.

What it does, in one place:

* **Which reads.** ``find``, ``find_first`` and ``get`` (which read through ``find``, or
  ``_partial_rows`` with ``select=``), ``count`` and ``exists`` of the tables ``cache=``
  names, each keyed by the method and its arguments (``where``, ``order_by``, ``limit``,
  ``offset``, ``select``), normalised by :func:`query_key`: values of other types are other
  keys, even where Python finds them equal (``1``, ``1.0`` and ``True``), and a call with an
  argument the key cannot hold (an object of an unknown type, an argument such as ``with_``
  or a ``where`` on related rows that reads other tables) is not cached. Reads made inside
  a transaction neither use nor fill the cache: they must see the transaction's own
  writes, and a rollback must not leave them behind.
* **How long.** An entry lives ``ttl`` seconds after it was stored or last hit, and never
  more than ``max_lifetime`` seconds after it was stored; each table keeps at most
  ``max_entries`` entries, dropping the least recently used. ``clock`` (``time.monotonic``)
  can be replaced, for tests.
* **Copies.** What a hit returns is a copy (a new model instance, with its lists and dicts
  copied too), so no caller can change what another caller gets.
* **What forgets.** Every write through the package (``insert``, ``insert_many``,
  ``update``, ``delete``, ``upsert``, ``save``, ``truncate``) forgets its table and the
  tables whose foreign keys reference it (their ``ON DELETE`` / ``ON UPDATE`` actions may
  change them), once the write's transaction has ended: at once outside a transaction, at
  the end of the outermost ``db.transaction()`` block inside one (commit or rollback). A
  read that started before that moment is not stored (each table counts its writes, and a
  read stores its result only when no write ended meanwhile), so no thread caches a state
  that a commit has already replaced. ``db.raw`` statements that change rows (SQLite's
  change counter says so) forget every table, migrations too, and ``db.cache_clear()``
  forgets everything on demand.
* **What it cannot see.** Other processes, other connections and tools writing to the file,
  triggers that write to other tables, and schema changes made with ``db.raw``: call
  ``db.cache_clear()`` after them, or do not cache those tables.

Everything is guarded by one lock per table, so one ``Database`` serves any number of
threads (and ``db.aio``'s workers).
"""

from __future__ import annotations

import copy
import enum
import functools
import inspect
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload
from uuid import UUID

import pydantic

from ..errors import ConfigurationError
from ..schema.quoting import fold_identifier

if TYPE_CHECKING:
    from ..model.table import Table

__all__ = [
    "MISS",
    "Cache",
    "ReadCache",
    "TableCache",
    "build_read_cache",
    "cached_read",
    "copy_result",
    "invalidates",
    "query_key",
]

F = TypeVar("F", bound=Callable[..., Any])


class _Miss:
    def __repr__(self) -> str:
        return "<miss>"


#: What :meth:`TableCache.get` returns for a key it does not hold (``None`` is a result).
MISS: Any = _Miss()


@dataclass(frozen=True)
class Cache:
    """How the reads of a table are cached: ``database(..., cache=Cache(ttl=30))``.

    :param ttl: seconds an entry lives after it was stored or last hit.
    :param max_lifetime: seconds an entry lives at most after it was stored, however often it
        is hit (at least ``ttl``).
    :param max_entries: entries kept per table; the least recently used goes first.
    :param clock: the time in seconds (``time.monotonic``); tests give their own.
    """

    ttl: float = 60.0
    max_lifetime: float = 300.0
    max_entries: int = 1000
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if not _seconds(self.ttl) or self.ttl <= 0:
            raise ConfigurationError(f"ttl must be a positive number of seconds (got {self.ttl!r})")
        if not _seconds(self.max_lifetime) or self.max_lifetime < self.ttl:
            raise ConfigurationError(
                f"max_lifetime must be a number of seconds, at least ttl ({self.ttl!r}) "
                f"(got {self.max_lifetime!r})"
            )
        entries = self.max_entries
        if isinstance(entries, bool) or not isinstance(entries, int) or entries < 1:
            raise ConfigurationError(
                f"max_entries must be a positive integer (got {self.max_entries!r})"
            )
        if not callable(self.clock):
            raise ConfigurationError(
                f"clock must be a callable returning seconds (got {self.clock!r})"
            )


def _seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


class _Entry:
    __slots__ = ("expires", "stored", "value")

    def __init__(self, value: Any, stored: float, expires: float) -> None:
        self.value = value
        self.stored = stored
        self.expires = expires


class TableCache:
    """The cached reads of one table: a bounded, least-recently-used map from query keys to
    results, with the table's write count (:attr:`generation`)."""

    def __init__(self, settings: Cache) -> None:
        self.settings = settings
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self._pid = os.getpid()

    def _locked(self) -> threading.Lock:
        """The lock; in a forked child (``gunicorn --preload``), a new one and no entries: a
        thread of the parent may have held the old one at the fork."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._entries = OrderedDict()
            self._generation += 1
        return self._lock

    @property
    def generation(self) -> int:
        """How many times the table was forgotten; read it before a read, give it to
        :meth:`put` after."""
        return self._generation

    def get(self, key: Hashable) -> Any:
        """The result stored for ``key`` (the cache's own: copy it before handing it out),
        or :data:`MISS`; a hit extends the entry's life."""
        settings = self.settings
        with self._locked():
            entry = self._entries.get(key)
            if entry is None:
                return MISS
            now = settings.clock()
            if now >= entry.expires:
                del self._entries[key]
                return MISS
            entry.expires = min(now + settings.ttl, entry.stored + settings.max_lifetime)
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        """Store ``value`` for ``key``, unless the table was written since ``generation``
        was read (the value may be older than that write)."""
        settings = self.settings
        with self._locked():
            if generation != self._generation:
                return
            now = settings.clock()
            self._entries[key] = _Entry(value, now, now + settings.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > settings.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """Forget every entry, and every read still running (see :meth:`put`)."""
        with self._locked():
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        with self._locked():
            return len(self._entries)


class ReadCache:
    """The read cache of one database: a :class:`TableCache` per cached table, and which
    tables each write forgets. Writes made inside a transaction are remembered per thread
    and forgotten when it ends (:meth:`flush`)."""

    def __init__(self, tables: Mapping[str, TableCache], children: Mapping[str, Iterable[str]]):
        #: By folded table name.
        self.tables = dict(tables)
        self._affected = {
            name: frozenset(t for t in _closure(name, children) if t in self.tables)
            for name in {*children, *self.tables}
        }
        self._local = threading.local()

    def table(self, name: str) -> TableCache | None:
        """The cache of table ``name``, ``None`` when it is not cached."""
        return self.tables.get(fold_identifier(name))

    def _pending(self) -> set[str]:
        pending: set[str] | None = getattr(self._local, "pending", None)
        if pending is None:
            pending = self._local.pending = set()
        return pending

    def written(self, name: str) -> None:
        """Table ``name`` is being written by this thread: forget it (and the tables its
        foreign key actions reach) at the next :meth:`flush`."""
        folded = fold_identifier(name)
        affected = self._affected.get(folded)
        if affected is None:
            affected = frozenset({folded} & self.tables.keys())
        if affected:
            self._pending().update(affected)

    def written_everywhere(self) -> None:
        """Any table may have been written (a raw statement): forget all at :meth:`flush`."""
        self._pending().update(self.tables)

    def flush(self) -> None:
        """Forget what this thread wrote; called when its write or transaction has ended."""
        pending = self._pending()
        while pending:
            self.tables[pending.pop()].invalidate()

    def clear(self) -> None:
        """Forget every table, now."""
        for table in self.tables.values():
            table.invalidate()


def _closure(name: str, children: Mapping[str, Iterable[str]]) -> set[str]:
    """``name`` and every table whose foreign keys reach it, directly or through others."""
    seen = {name}
    todo = [name]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def build_read_cache(cache: object, models: Mapping[str, type[Table]]) -> ReadCache | None:
    """The :class:`ReadCache` that ``database(..., cache=...)`` asks for, ``None`` for none.

    ``cache`` is ``None`` or ``False`` (no cache), ``True`` or a :class:`Cache` (every table),
    or a dict naming tables (by table name, schemas key or model class) with ``True``,
    ``False``, ``None`` or a :class:`Cache` each. Anything else, or a name that is no table
    of ``models``, is a :class:`ConfigurationError`.
    """
    from ..model.table import table_info

    names = {key: table_info(model).name for key, model in models.items()}
    by_name: dict[str, str] = {}
    for key, name in names.items():
        by_name[key] = name
        by_name.setdefault(fold_identifier(name), name)
    settings: dict[str, Cache] = {}
    if cache is None or cache is False:
        return None
    if cache is True or isinstance(cache, Cache):
        chosen = Cache() if cache is True else cache
        settings = {name: chosen for name in names.values()}
    elif isinstance(cache, Mapping):
        for key, value in cache.items():
            table = _table_named(key, by_name, models)
            if table is None:
                known = ", ".join(sorted(set(names.values())))
                raise ConfigurationError(
                    f"cache= names {key!r}, which is no table of this database (tables: {known})"
                )
            if value is True:
                settings[table] = Cache()
            elif isinstance(value, Cache):
                settings[table] = value
            elif value is None or value is False:
                settings.pop(table, None)
            else:
                raise ConfigurationError(
                    f"cache= for {key!r} must be True, False, None or a Cache (got {value!r})"
                )
    else:
        raise ConfigurationError(
            f"cache= must be True, False, None, a Cache or a dict of them by table (got {cache!r})"
        )
    if not settings:
        return None
    children: dict[str, set[str]] = {}
    for model in models.values():
        spec = table_info(model).spec
        parents = [c.references.table for c in spec.columns if c.references is not None]
        parents += [fk.other_table for fk in spec.foreign_keys]
        for parent in parents:
            children.setdefault(fold_identifier(parent), set()).add(fold_identifier(spec.name))
    tables = {fold_identifier(name): TableCache(s) for name, s in settings.items()}
    return ReadCache(tables, children)


def _table_named(
    key: object, by_name: Mapping[str, str], models: Mapping[str, type[Table]]
) -> str | None:
    from ..model.table import table_info

    if isinstance(key, type):
        return table_info(key).name if key in models.values() else None
    if not isinstance(key, str):
        return None
    return by_name.get(key) or by_name.get(fold_identifier(key))


# -- keys ------------------------------------------------------------------------------------------

#: The arguments of a read that are part of its key.
KEYED = frozenset({"where", "order_by", "limit", "offset", "select"})


class _Unkeyable(Exception):
    """A value :func:`query_key` cannot turn into a key."""


#: Values that are their own key, tagged with their exact type.
_EXACT = (str, int, bool, bytes, type(None))
#: Values keyed by their ``repr`` (floats: ``0.0`` and ``-0.0`` differ; ``Decimal('1.0')`` and
#: ``Decimal('1.00')`` too; aware datetimes in two zones; they are equal in Python).
_BY_REPR = (float, Decimal, datetime, date, time_of_day, timedelta, UUID)


def _normalised(value: Any) -> Hashable:
    kind = type(value)
    if kind in _EXACT:
        return (kind, value)
    if isinstance(value, enum.Enum):
        return (kind, value.name)
    if isinstance(value, _BY_REPR):
        return (kind, repr(value))
    if isinstance(value, Mapping):
        return (kind, tuple((_normalised(k), _normalised(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (kind, tuple(_normalised(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return (kind, frozenset(_normalised(item) for item in value))
    if isinstance(value, pydantic.BaseModel):
        return (kind, _normalised(value.__dict__))
    raise _Unkeyable


def query_key(
    method: str, arguments: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> Hashable | None:
    """The cache key of the read ``method`` called with ``arguments`` (by name), or ``None``
    when the call is not to be cached: an argument the key cannot hold, or one that is not
    part of keys (:data:`KEYED`) given another value than ``None`` or its default (in
    ``defaults``): ``with_``, which reads other tables."""
    parts: list[Hashable] = [method]
    try:
        for name, value in arguments.items():
            if name in KEYED:
                parts.append((name, _normalised(value)))
            elif value is not None and (
                defaults is None or name not in defaults or value is not defaults[name]
            ):
                return None
    except (_Unkeyable, RecursionError):
        return None
    return tuple(parts)


# -- copies ----------------------------------------------------------------------------------------

#: Values a copy shares: nothing in them can be changed.
_IMMUTABLE = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    Decimal,
    datetime,
    date,
    time_of_day,
    timedelta,
    UUID,
    enum.Enum,
)


def _copied(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    kind = type(value)
    if kind is list:
        return [_copied(item) for item in value]
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, pydantic.BaseModel):
        clone = value.__copy__()
        values = clone.__dict__
        for name, item in values.items():
            if not isinstance(item, _IMMUTABLE):
                values[name] = _copied(item)
        return clone
    return copy.deepcopy(value)


def copy_result(result: Any) -> Any:
    """A copy of a read's result that shares nothing mutable with it: new model instances,
    lists and dicts (numbers, text and other immutable values are shared)."""
    if type(result) is list:
        return [_copied(item) for item in result]
    return _copied(result)


# -- the repository's hooks ------------------------------------------------------------------------


def _binder(
    method: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any] | None]:
    """A fast ``inspect.Signature.bind`` for ``method`` (its first parameter, ``self``, left
    out): the arguments of a call by name, defaults filled in, in the signature's order;
    ``None`` for a call the method would refuse."""
    parameters = list(inspect.signature(method).parameters.values())[1:]
    names = [p.name for p in parameters]
    positional = [
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    by_keyword = {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    empty = inspect.Parameter.empty
    defaults = {p.name: p.default for p in parameters if p.default is not empty}

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if len(args) > len(positional):
            return None
        given = dict(zip(positional, args, strict=False))
        for keyword, value in kwargs.items():
            if keyword not in by_keyword or keyword in given:
                return None
            given[keyword] = value
        try:
            return {n: given[n] if n in given else defaults[n] for n in names}
        except KeyError:  # a required argument is missing
            return None

    return bind


@overload
def cached_read(method: F, /) -> F: ...


@overload
def cached_read(*, unless: str) -> Callable[[F], F]: ...


def cached_read(method: F | None = None, /, *, unless: str | None = None) -> Any:
    """Decorate a read method of a repository (whose ``_cache`` is its table's
    :class:`TableCache` or ``None``): serve it from the cache, outside transactions.
    ``unless`` names an argument that, when given (not ``None``), makes the method hand the
    call to another cached method (``find(select=...)`` reads through ``_partial_rows``)."""
    if method is None:
        return functools.partial(_cached_read, unless=unless)
    return _cached_read(method, unless=unless)


def _cached_read(method: F, unless: str | None) -> F:
    name = method.__name__
    bind = _binder(method)
    defaults = {
        p.name: p.default
        for p in inspect.signature(method).parameters.values()
        if p.default is not inspect.Parameter.empty
    }

    @functools.wraps(method)
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        cache: TableCache | None = self._cache
        if cache is None:
            return method(self, *args, **kwargs)
        db = self.db
        # db.conn raises for a closed database, as a read that reaches SQLite would.
        if db.in_transaction or db.conn.in_transaction:
            return method(self, *args, **kwargs)
        arguments = bind(args, kwargs)
        if arguments is None:
            return method(self, *args, **kwargs)  # let the call say what is wrong
        if unless is not None and arguments[unless] is not None:
            return method(self, *args, **kwargs)  # cached where it goes
        key = query_key(name, arguments, defaults)
        if key is None or self.relations.filter_by(arguments.get("where")):
            # A where on related rows reads other tables, whose writes do not forget it.
            return method(self, *args, **kwargs)
        found = cache.get(key)
        if found is not MISS:
            return copy_result(found)
        generation = cache.generation
        result = method(self, *args, **kwargs)
        cache.put(key, copy_result(result), generation)
        return result

    return cast("F", read)


def invalidates(method: F) -> F:
    """Decorate a write method of a repository: its table (and the tables its foreign key
    actions reach) is forgotten once the write's transaction has ended."""

    @functools.wraps(method)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        cache: ReadCache | None = self.db._read_cache
        if cache is None:
            return method(self, *args, **kwargs)
        cache.written(self.info.name)
        try:
            return method(self, *args, **kwargs)
        finally:
            if not self.db.in_transaction:
                cache.flush()

    return cast("F", write)
