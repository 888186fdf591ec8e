"""The async API: ``await`` forms of the database and repository calls, for async web apps.

``db.aio`` is the :class:`AsyncDatabase` of a :class:`~hedystia_models.Database`; it shares
the database's models, settings and connections. Each call runs the same code as the sync
API, on one of the package's worker threads, so the event loop never waits for SQLite:

* Calls run on a small pool of worker threads (``db.aio`` has ``workers`` of them, 4 by
  default); each worker thread has its own SQLite connection, as every thread does (see
  :mod:`hedystia_models.engine.sqlite.pool`).
* ``async with db.aio.transaction():`` borrows one worker thread for the block: every call
  the task makes inside it (and the tasks it starts, which inherit its context) runs on that
  thread, in the transaction; other tasks go on meanwhile on the other workers.

Why threads and not aiosqlite: aiosqlite is the same design (one thread per connection,
calls handed to it through a queue), with one connection per object; the package already
gives every thread its connection and every call its transaction rules, so the async API is
the sync API on worker threads, with one behaviour for both and no extra dependency.

A call whose task is cancelled still runs to its end on its worker (a write is all or
nothing either way); the task just stops waiting for it. A transaction block left by a
cancellation is rolled back.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, overload

from .errors import ConfigurationError
from .model.table import Table
from .rows.aggregates import Aggregate, Fields, Group
from .rows.loading import With
from .rows.projection import Partial, Select, refuse_with
from .rows.repository import Repository
from .rows.where import OrderBy, Where

if TYPE_CHECKING:
    from .database import Database
    from .migrate.history import HistoryEntry
    from .migrate.migrations import MigrationStatus
    from .migrate.plan import Plan

__all__ = ["AsyncDatabase", "AsyncRepository"]

M = TypeVar("M", bound=Table)
P = ParamSpec("P")
R = TypeVar("R")

#: The worker thread each database's open async transaction runs on, for the current task.
_LANE: ContextVar[Mapping[int, ThreadPoolExecutor]] = ContextVar(
    "hedystia_lane", default=MappingProxyType({})
)

#: Worker threads of ``db.aio`` by default.
DEFAULT_WORKERS = 4


class AsyncDatabase:
    """The ``await`` API of a :class:`~hedystia_models.Database`: get it as ``db.aio``."""

    def __init__(self, db: Database, workers: int = DEFAULT_WORKERS) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigurationError(f"workers must be a positive integer (got {workers!r})")
        #: The sync database this runs on.
        self.db = db
        #: The process whose worker threads these are (a forked child makes its own).
        self.pid = os.getpid()
        self._workers = ThreadPoolExecutor(workers, thread_name_prefix="hedystia-aio")
        self._idle: list[ThreadPoolExecutor] = []  # single-thread lanes for transactions
        self._lanes_lock = threading.Lock()
        self._repositories: dict[type[Table], AsyncRepository[Any]] = {}

    # -- running a call -----------------------------------------------------------------------

    async def run(self, call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the sync ``call(*args, **kwargs)`` on a worker thread (the transaction's, inside
        :meth:`transaction`) and return its result; the loop goes on meanwhile."""
        executor = _LANE.get().get(id(self), self._workers)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(call, *args, **kwargs))

    def _borrow(self) -> ThreadPoolExecutor:
        with self._lanes_lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(1, thread_name_prefix="hedystia-aio-tx")

    def _give_back(self, lane: ThreadPoolExecutor) -> None:
        with self._lanes_lock:
            if len(self._idle) < self._workers._max_workers:
                self._idle.append(lane)
                return
        lane.shutdown(wait=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncDatabase]:
        """``async with db.aio.transaction():`` groups the calls of the block atomically, as
        :meth:`Database.transaction` does (commit at the end, roll back on an error or a
        cancellation; nested blocks are savepoints)."""
        lanes = _LANE.get()
        lane = lanes.get(id(self))
        borrowed = lane is None
        if lane is None:
            lane = self._borrow()
        token = _LANE.set(MappingProxyType({**lanes, id(self): lane}))
        try:
            block = self.db.transaction()
            await self.run(block.__enter__)
            try:
                yield self
            except BaseException as exc:
                if not await self.run(block.__exit__, type(exc), exc, exc.__traceback__):
                    raise
            else:
                await self.run(block.__exit__, None, None, None)
        finally:
            _LANE.reset(token)
            if borrowed:
                self._give_back(lane)

    # -- rows ---------------------------------------------------------------------------------

    def table(self, model: type[M]) -> AsyncRepository[M]:
        """The :class:`AsyncRepository` of ``model`` (as :meth:`Database.table`)."""
        repository = self._repositories.get(model)
        if repository is None:
            repository = AsyncRepository(self, self.db.table(model))
            self._repositories[model] = repository
        return repository

    def __getitem__(self, name: str) -> AsyncRepository[Any]:
        """The repository for a table name or a schemas key: ``db.aio["users"]``."""
        return self.table(self.db[name].model)

    def __getattr__(self, name: str) -> AsyncRepository[Any]:
        """The repository for a table name or a schemas key: ``db.aio.users``."""
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.table(getattr(self.db, name).model)

    async def raw(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """:meth:`Database.raw`, awaited."""
        return await self.run(self.db.raw, sql, params)

    # -- schema and migrations ------------------------------------------------------------------

    async def plan(self) -> Plan:
        """:meth:`Database.plan`, awaited."""
        return await self.run(self.db.plan)

    async def sync(self) -> Plan:
        """:meth:`Database.sync`, awaited."""
        return await self.run(self.db.sync)

    async def upgrade(self) -> Plan:
        """:meth:`Database.upgrade`, awaited: the start-up of an async app's lifespan."""
        return await self.run(self.db.upgrade)

    async def migrate_up(self) -> list[str]:
        """:meth:`Database.migrate_up`, awaited (``async def`` steps run on the worker's own
        event loop, so this loop never blocks)."""
        return await self.run(self.db.migrate_up)

    async def migrate_down(self, steps: int = 1) -> list[str]:
        """:meth:`Database.migrate_down`, awaited."""
        return await self.run(self.db.migrate_down, steps)

    async def migration_status(self) -> MigrationStatus:
        """:meth:`Database.migration_status`, awaited."""
        return await self.run(self.db.migration_status)

    async def check(self) -> list[str]:
        """:meth:`Database.check`, awaited."""
        return await self.run(self.db.check)

    async def history(self) -> list[HistoryEntry]:
        """:meth:`Database.history`, awaited."""
        return await self.run(self.db.history)

    # -- lifetime -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the worker threads (their connections close as they end); called by
        :meth:`Database.close`."""
        self._workers.shutdown(wait=True)
        with self._lanes_lock:
            idle, self._idle = self._idle, []
        for lane in idle:
            lane.shutdown(wait=True)

    async def close(self) -> None:
        """Close the database (:meth:`Database.close`) without blocking the loop."""
        await asyncio.get_running_loop().run_in_executor(None, self.db.close)

    def __repr__(self) -> str:
        return f"<AsyncDatabase {self.db.path!r}>"


class AsyncRepository(Generic[M]):
    """The ``await`` form of a :class:`~hedystia_models.rows.repository.Repository`: the same
    calls, arguments and results."""

    def __init__(self, aio: AsyncDatabase, repository: Repository[M]) -> None:
        self._aio = aio
        #: The sync repository the calls run.
        self.sync = repository
        self.model: type[M] = repository.model

    async def insert(self, row: M | Mapping[str, Any]) -> M:
        """:meth:`Repository.insert`, awaited."""
        return await self._aio.run(self.sync.insert, row)

    @overload
    async def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: Literal[True] = True
    ) -> list[M]: ...

    @overload
    async def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: Literal[False]
    ) -> int: ...

    @overload
    async def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: bool
    ) -> list[M] | int: ...

    async def insert_many(
        self, rows: Iterable[M | Mapping[str, Any]], *, returning: bool = True
    ) -> list[M] | int:
        """:meth:`Repository.insert_many`, awaited (``rows`` is read on the worker); with
        ``returning=False``, the number of rows."""
        return await self._aio.run(self.sync.insert_many, rows, returning=returning)

    async def update(self, *, where: Where, data: Mapping[str, Any]) -> list[M]:
        """:meth:`Repository.update`, awaited."""
        return await self._aio.run(self.sync.update, where=where, data=data)

    @overload
    async def delete(self, instance: M, /) -> int: ...

    @overload
    async def delete(self, *, where: Where) -> int: ...

    async def delete(self, *args: Any, **kwargs: Any) -> int:
        """:meth:`Repository.delete`, awaited: ``delete(instance)`` or ``delete(where=...)``."""
        delete: Callable[..., int] = self.sync.delete
        return await self._aio.run(delete, *args, **kwargs)

    async def upsert(
        self, *, where: Where, create: M | Mapping[str, Any], update: Mapping[str, Any]
    ) -> M:
        """:meth:`Repository.upsert`, awaited."""
        return await self._aio.run(self.sync.upsert, where=where, create=create, update=update)

    async def truncate(self) -> int:
        """:meth:`Repository.truncate`, awaited."""
        return await self._aio.run(self.sync.truncate)

    async def save(self, instance: M) -> M:
        """:meth:`Repository.save`, awaited."""
        return await self._aio.run(self.sync.save, instance)

    @overload
    async def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: With | None = None,
        *,
        select: None = None,
    ) -> list[M]: ...

    @overload
    async def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: None = None,
        *,
        select: Select,
    ) -> list[Partial[M]]: ...

    async def find(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_: With | None = None,
        *,
        select: Select | None = None,
    ) -> list[M] | list[Partial[M]]:
        """:meth:`Repository.find`, awaited (``with_`` loads relations on the worker)."""
        if select is not None:
            return await self._aio.run(
                self.sync._partial_rows, select, with_, where, order_by, limit, offset
            )
        return await self._aio.run(self.sync.find, where, order_by, limit, offset, with_=with_)

    #: :meth:`Repository.find_many`, awaited: the same call as :meth:`find`.
    find_many = find

    @overload
    async def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: With | None = None,
        *,
        select: None = None,
    ) -> M | None: ...

    @overload
    async def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: None = None,
        *,
        select: Select,
    ) -> Partial[M] | None: ...

    async def find_first(
        self,
        where: Where | None = None,
        order_by: OrderBy | None = None,
        with_: With | None = None,
        *,
        select: Select | None = None,
    ) -> M | Partial[M] | None:
        """:meth:`Repository.find_first`, awaited."""
        if select is not None:
            rows = await self._aio.run(
                self.sync._partial_rows, select, with_, where, order_by, 1, None
            )
            return rows[0] if rows else None
        return await self._aio.run(self.sync.find_first, where, order_by, with_=with_)

    @overload
    async def get(self, pk: Any, with_: With | None = None, *, select: None = None) -> M | None: ...

    @overload
    async def get(self, pk: Any, with_: None = None, *, select: Select) -> Partial[M] | None: ...

    async def get(
        self, pk: Any, with_: With | None = None, *, select: Select | None = None
    ) -> M | Partial[M] | None:
        """:meth:`Repository.get`, awaited."""
        if select is not None:
            refuse_with(self.sync.info, with_)
            return await self._aio.run(lambda: self.sync.get(pk, select=select))
        return await self._aio.run(self.sync.get, pk, with_=with_)

    async def count(self, where: Where | None = None) -> int:
        """:meth:`Repository.count`, awaited."""
        return await self._aio.run(self.sync.count, where)

    async def exists(self, where: Where | None = None) -> bool:
        """:meth:`Repository.exists`, awaited."""
        return await self._aio.run(self.sync.exists, where)

    async def aggregate(
        self,
        *,
        where: Where | None = None,
        sum: Fields = (),
        min: Fields = (),
        max: Fields = (),
        avg: Fields = (),
    ) -> Aggregate:
        """:meth:`Repository.aggregate`, awaited."""
        return await self._aio.run(
            self.sync.aggregate, where=where, sum=sum, min=min, max=max, avg=avg
        )

    async def group_by(
        self,
        by: Fields,
        *,
        where: Where | None = None,
        sum: Fields = (),
        min: Fields = (),
        max: Fields = (),
        avg: Fields = (),
        order_by: OrderBy | None = None,
    ) -> list[Group]:
        """:meth:`Repository.group_by`, awaited."""
        return await self._aio.run(
            self.sync.group_by,
            by,
            where=where,
            sum=sum,
            min=min,
            max=max,
            avg=avg,
            order_by=order_by,
        )

    async def sum(self, field: str, where: Where | None = None) -> Any:
        """:meth:`Repository.sum`, awaited."""
        return await self._aio.run(self.sync.sum, field, where)

    async def min(self, field: str, where: Where | None = None) -> Any:
        """:meth:`Repository.min`, awaited."""
        return await self._aio.run(self.sync.min, field, where)

    async def max(self, field: str, where: Where | None = None) -> Any:
        """:meth:`Repository.max`, awaited."""
        return await self._aio.run(self.sync.max, field, where)

    async def avg(self, field: str, where: Where | None = None) -> Any:
        """:meth:`Repository.avg`, awaited."""
        return await self._aio.run(self.sync.avg, field, where)

    def __repr__(self) -> str:
        return f"<AsyncRepository {self.sync.info.name} ({self.model.__name__})>"
