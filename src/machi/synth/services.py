"""Load the synthetic town into schema ``synth`` with COPY, stream by stream.

The generator yields one town area at a time; rows are buffered for a few areas and written
with one COPY per table, all inside one transaction, so a load is all or nothing and memory
stays flat whatever the town size.

Loading and clearing are operator actions: declared with a permission and audited (counts
only), like every other action, even though the town holds no real person's data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from queue import Empty, Full, Queue
from typing import Any, TypeVar, cast

import psycopg
from sqlalchemy import text

from machi.core.errors import DomainError
from machi.core.numbers import is_valid_local_government_code
from machi.core.uow import UnitOfWork
from machi.privacy import audit
from machi.privacy.access import authorised
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.synth import rules
from machi.synth.errors import MESSAGES, SynthError
from machi.synth.models import SCHEMA, TABLE_NAMES

# Rows are flushed once this many residents are buffered: big enough that COPY start-up is
# noise, small enough that progress moves and memory stays in the tens of megabytes.
FLUSH_RESIDENTS = 20_000

T = TypeVar("T")


@dataclass(frozen=True)
class LoadReport:
    rows: dict[str, int]  # table name → rows written
    residents: int
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0


def _refuse(code: SynthError) -> DomainError:
    return DomainError(code, MESSAGES[code])


@authorised(Permission.SYNTH_LOAD_TOWN)
def town_loaded(uow: UnitOfWork, actor: Actor) -> bool:
    """Whether a town is loaded. Not audited: it reads no personal data, only existence."""
    with uow:
        return bool(uow.session.scalar(text("SELECT EXISTS (SELECT FROM synth.town)")))


@authorised(Permission.SYNTH_LOAD_TOWN)
def clear_town(uow: UnitOfWork, actor: Actor) -> None:
    """Empty every synth table (one TRUNCATE, so foreign keys among them are no obstacle)."""
    tables = ", ".join(f"{SCHEMA}.{name}" for name in TABLE_NAMES)
    with uow:
        uow.session.execute(text(f"TRUNCATE {tables}"))
        audit.record(uow, actor, action="synth.clear_town")
        uow.commit()


@authorised(Permission.SYNTH_LOAD_TOWN)
def load_town(
    uow: UnitOfWork,
    actor: Actor,
    *,
    residents: int,
    seed: int,
    municipality_name: str,
    local_government_code: str,
    as_of: date,
    on_progress: Callable[[int], None] | None = None,
    generated_at: datetime | None = None,
) -> LoadReport:
    """Generate a town of ``residents`` current residents from ``seed`` and COPY it in,
    in the unit of work's one transaction (all or nothing), with one audit row of counts.

    All dates are relative to ``as_of``; ``generated_at`` is only recorded on the town row.
    ``on_progress`` receives the number of current residents written so far (it ends at
    ``residents``; removed records come on top). Refuses if a town is already loaded.
    """
    if residents < 1:
        raise _refuse(SynthError.INVALID_RESIDENTS)
    if not is_valid_local_government_code(local_government_code):
        raise _refuse(SynthError.INVALID_LOCAL_GOVERNMENT_CODE)
    if generated_at is not None and generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    plan = rules.TownPlan(
        seed=seed,
        residents=residents,
        as_of=as_of,
        municipality_name=municipality_name,
        local_government_code=local_government_code,
    )
    started = time.perf_counter()
    counts = dict.fromkeys(TABLE_NAMES, 0)
    with uow:
        conn = uow.session.connection()
        # The lock makes two concurrent loads queue up; the second then sees the first town.
        conn.execute(text("LOCK TABLE synth.town IN EXCLUSIVE MODE"))
        if conn.execute(text("SELECT EXISTS (SELECT FROM synth.town)")).scalar():
            raise _refuse(SynthError.ALREADY_LOADED)
        dbapi = conn.connection.driver_connection
        if not isinstance(dbapi, psycopg.Connection):
            raise TypeError("load_town needs the psycopg 3 driver")
        written = 0
        with dbapi.cursor() as cur:
            writer = _CopyWriter(cur, counts)
            town = rules.TownRow(
                1,
                municipality_name,
                local_government_code,
                plan.prefecture,
                seed,
                residents,
                as_of,
                generated_at,
            )
            writer.copy("town", rules.TownRow._fields, [town])
            writer.copy("town_area", rules.TownAreaRow._fields, rules.town_areas(plan))
            for chunk in _prefetched(_chunks(rules.generate_town(plan))):
                writer.flush(chunk)
                written += sum(b.residents for b in chunk)
                if on_progress is not None:
                    on_progress(written)
        audit.record(
            uow,
            actor,
            action="synth.load_town",
            detail={"residents": written, "seed": seed, "rows": sum(counts.values())},
        )
        uow.commit()
    return LoadReport(rows=counts, residents=written, seconds=time.perf_counter() - started)


def _chunks(
    areas: Iterator[tuple[rules.TownAreaRow, rules.AreaBatch]],
) -> Iterator[list[rules.AreaBatch]]:
    pending: list[rules.AreaBatch] = []
    buffered = 0
    for _area, batch in areas:
        pending.append(batch)
        buffered += batch.residents
        if buffered >= FLUSH_RESIDENTS:
            yield pending
            pending, buffered = [], 0
    if pending:
        yield pending


_DONE = object()


def _prefetched(chunks: Iterator[T]) -> Iterator[T]:
    """Generate the next chunk in a thread while PostgreSQL digests the previous COPY: the
    wait for the server releases the GIL, so generation and loading overlap. The generator
    itself still runs in one thread, in order, so the rows stay deterministic."""
    queue: Queue[object] = Queue(maxsize=2)
    failure: list[BaseException] = []
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put(chunk, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer, re-raised there
            failure.append(exc)
        finally:
            queue.put(_DONE)

    worker = threading.Thread(target=produce, name="synth-generator", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                if failure:
                    raise failure[0]
                return
            yield cast(T, item)
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(timeout=0.1)


class _CopyWriter:
    def __init__(self, cur: psycopg.Cursor[Any], counts: dict[str, int]) -> None:
        self.cur = cur
        self.counts = counts

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        statement = f"COPY {SCHEMA}.{table} ({', '.join(columns)}) FROM STDIN"
        n = 0
        with self.cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        self.counts[table] += n

    def flush(self, batches: Sequence[rules.AreaBatch]) -> None:
        # Parents before children, so every foreign key finds its row.
        self.copy("address", rules.AddressRow._fields, (r for b in batches for r in b.addresses))
        self.copy(
            "household", rules.HouseholdRow._fields, (r for b in batches for r in b.households)
        )
        self.copy("person", rules.PersonRow._fields, (r for b in batches for r in b.persons))
        self.copy(
            "life_event", rules.LifeEventRow._fields, (r for b in batches for r in b.life_events)
        )
        self.copy("income", rules.IncomeRow._fields, (r for b in batches for r in b.incomes))
        self.copy(
            "bank_account",
            rules.BankAccountRow._fields,
            (r for b in batches for r in b.bank_accounts),
        )
