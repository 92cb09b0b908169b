"""``make bench``, issue 6: the resident registry at 1,000,000 residents.

Builds a throwaway embedded cluster (fsync on) under var/bench-registry-pg, loads a
synthetic town (synth.load_town) and imports it into the registry (import_town), then
measures, in one run:

- 4情報 search: p50/p95/p99 of ``queries.search_residents`` over ``--queries`` criteria
  of mixed shapes drawn from actual residents (end to end, audit row included), plus one
  EXPLAIN ANALYZE per shape (SQL time against Python time);
- 異動 throughput: ``services.move_within`` (state + history + audit + outbox, one
  transaction each) against a plain INSERT of the very rows it wrote, as a ratio, and the
  latency of one 異動;
- 住民票の写し PDF over HTTP (uvicorn on 127.0.0.1 only) with ``--pdf-clients`` concurrent
  signed-in clerks, bounded by ``--pdf-requests`` and ``--pdf-seconds``;
- audit overhead: the same record read (and the same search) with and without its audit
  row, interleaved, as a ratio of medians.

Figures are printed against their goals and merged into bench/results/<date>.json under
"registry". Nothing here is asserted. Synthetic data only; nothing listens beyond
127.0.0.1.

    python -m bench.registry [--residents N] [--queries N] [--moves N] [--pdf-requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core import database
from machi.core.db import APP_ROLE, OWNER_ROLE, make_engine
from machi.core.errors import DomainError
from machi.core.pgserver import EmbeddedPostgres
from machi.core.settings import Settings
from machi.privacy import services as privacy
from machi.privacy.actor import Actor
from machi.privacy.permissions import Affair, Permission
from machi.registry import queries, services
from machi.registry.models import ResidentVersion
from machi.registry.queries import SearchCriteria
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from machi.synth import services as synth
from machi.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# MACHI_BENCH_VAR moves the cluster and keys elsewhere (two benches side by side).
BENCH_VAR = Path(os.environ.get("MACHI_BENCH_VAR", str(ROOT / "var")))
PG_DIR = BENCH_VAR / "bench-registry-pg"
VAR_DIR = BENCH_VAR / "bench-registry"
HOST = "127.0.0.1"  # the only address this bench ever talks to

GOALS = {
    "search_p95_ms": 20.0,
    "move_service_over_plain": 0.25,
    "move_p95_ms": 50.0,
    "pdf_p95_ms": 300.0,
    "audited_over_plain": 1.10,
}
CLERK_PERMISSIONS = frozenset(p for p in Permission if p.value.startswith("registry."))
PASSWORD = "bench-Clerk-passw0rd!"  # noqa: S105  (synthetic clerks of a throwaway cluster)


# -- small helpers -------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def dist(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 0.50), 3),
        "p95_ms": round(pct(values, 0.95), 3),
        "p99_ms": round(pct(values, 0.99), 3),
        "max_ms": round(max(values), 3) if values else float("nan"),
    }


def verdict(value: float, goal: float, *, at_most: bool = True) -> str:
    ok = value <= goal if at_most else value >= goal
    return f"(goal {'<=' if at_most else '>='} {goal:g}: {'met' if ok else 'MISSED'})"


def ms_since(t: float) -> float:
    return (time.perf_counter() - t) * 1000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def clerk_actor(user_id: uuid.UUID) -> Actor:
    return Actor(
        user_id=user_id,
        login_name="bench_clerk",
        terminal="bench",
        affair=Affair.JUKI,
        grants=frozenset({("counter_clerk", Affair.JUKI.value)}),
        permissions=CLERK_PERMISSIONS,
    )


@contextmanager
def unaudited() -> Iterator[None]:
    """The registry's reads with ``audit.record`` made a no-op: the same code and SQL,
    without the audit row (what "unaudited" means for the overhead figure)."""
    real = queries.audit
    queries.audit = SimpleNamespace(record=lambda *a, **k: None)  # type: ignore[assignment]
    try:
        yield
    finally:
        queries.audit = real


# -- build -----------------------------------------------------------------------------------


def build(server: EmbeddedPostgres, residents: int) -> tuple[Runtime, dict[str, Any]]:
    database.create_roles_and_database(server.url(), "machi")
    database.upgrade(server.url(role=OWNER_ROLE, database="machi"))
    settings = Settings(var_dir=VAR_DIR, municipality_name="架空市", local_government_code="999997")
    rt = bootstrap.build(settings, server.url(role=APP_ROLE, database="machi"))
    operator = Actor.operator()
    figures: dict[str, Any] = {}

    report = synth.load_town(
        rt.uow(),
        operator,
        residents=residents,
        seed=1,
        municipality_name="架空市",
        local_government_code="999997",
        as_of=rt.clock.business_date(),
    )
    print(
        f"synth.load_town: {residents:,} residents, {report.total_rows:,} rows in "
        f"{report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s"
    )
    figures["synth_load"] = {
        "rows": report.total_rows,
        "seconds": round(report.seconds, 1),
        "rows_per_second": round(report.rows_per_second),
    }

    t = time.perf_counter()
    imp = services.import_town(rt.uow(), operator, rt.keys, services.TownImport())
    seconds = time.perf_counter() - t
    rows = (
        imp.town_areas
        + imp.addresses
        + imp.households
        + imp.residents
        + imp.versions
        + imp.individual_numbers
    )
    print(
        f"registry.import_town: {imp.residents:,} residents ({imp.current_residents:,} current, "
        f"{imp.removed_records:,} 除票), {imp.households:,} households, {rows:,} rows "
        f"(incl. {imp.individual_numbers:,} sealed numbers) in {seconds:.1f} s = "
        f"{rows / seconds:,.0f} rows/s, {imp.residents / seconds:,.0f} residents/s"
    )
    figures["import_town"] = {
        "residents": imp.residents,
        "current_residents": imp.current_residents,
        "households": imp.households,
        "versions": imp.versions,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds),
        "residents_per_second": round(imp.residents / seconds),
    }
    return rt, figures


def analyze(server: EmbeddedPostgres) -> float:
    """What an operator (or autovacuum, some minutes later) does after a bulk load: without
    statistics the planner guesses and the search plans are poor. As the superuser: the
    app role may not vacuum tables it does not own (it would skip them silently)."""
    admin = make_engine(server.url(database="machi"))
    t = time.perf_counter()
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    admin.dispose()
    return time.perf_counter() - t


# -- sample of actual residents ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    resident_id: uuid.UUID
    household_id: uuid.UUID
    name: str
    name_kana: str
    birth_date: date
    sex: int
    town: str
    lot: str


def sample_people(rt: Runtime, n: int, seed: int) -> list[Person]:
    with rt.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT setseed({(seed % 1000) / 1000})")
        rows = conn.execute(
            text(
                "SELECT rv.resident_id, rv.household_id, rv.name, rv.name_kana, rv.birth_date,"
                " rv.sex, t.name, a.lot"
                " FROM registry.resident_version rv"
                " JOIN registry.address a ON a.id = rv.address_id"
                " JOIN registry.town_area t ON t.id = a.town_area_id"
                " WHERE rv.valid_to IS NULL AND rv.superseded_at IS NULL AND NOT rv.removed"
                "   AND rv.birth_date_precision = 'day'"
                " ORDER BY random() LIMIT :n"
            ),
            {"n": n},
        ).all()
    return [Person(*r) for r in rows]


# -- 4情報 search ---------------------------------------------------------------------------


def _surname(p: Person) -> str:
    return p.name.replace("\u3000", " ").split(" ")[0]


def _kana_part(p: Person, rng: random.Random, length: int) -> str:
    kana = p.name_kana.replace("\u3000", " ").replace(" ", "")
    start = rng.randrange(0, max(1, len(kana) - length + 1))
    return kana[start : start + length]


# Each shape: (label, criteria from one actual resident). Two 4情報 items besides 性別.
SHAPES: list[tuple[str, Callable[[Person, random.Random], SearchCriteria]]] = [
    (
        "partial_kana+birth_date",
        lambda p, r: SearchCriteria(name_kana=_kana_part(p, r, 3), birth_date=p.birth_date),
    ),
    (
        "address+birth_date",
        lambda p, r: SearchCriteria(address=p.town + p.lot, birth_date=p.birth_date),
    ),
    (
        "kanji_name+sex+birth_year",
        lambda p, r: SearchCriteria(name=p.name, sex=p.sex, birth_year=p.birth_date.year),
    ),
    (
        "kanji_surname+birth_date",
        lambda p, r: SearchCriteria(name=_surname(p), birth_date=p.birth_date),
    ),
    (
        "full_kana+town",
        lambda p, r: SearchCriteria(name_kana=p.name_kana, address=p.town),
    ),
    (
        "short_kana(2)+birth_year",
        lambda p, r: SearchCriteria(name_kana=_kana_part(p, r, 2), birth_year=p.birth_date.year),
    ),
]


class StatementCatcher:
    """Keeps the last search statement the engine sent, with its parameters."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last: tuple[str, Any] | None = None

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "count(*) OVER ()" in statement:
            self.last = (statement, params)

    def __enter__(self) -> StatementCatcher:
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def _plan_indexes(node: dict[str, Any]) -> list[str]:
    found = [node["Index Name"]] if "Index Name" in node else []
    for child in node.get("Plans", []):
        found += _plan_indexes(child)
    return found


def _version_access(node: dict[str, Any]) -> list[str]:
    """How the plan reaches registry.resident_version: node types and index names."""
    found = []
    if node.get("Relation Name") == "resident_version" or str(
        node.get("Index Name", "")
    ).startswith(("ix_resident_version", "resident_version", "uq_resident_version")):
        found.append(f"{node['Node Type']}({node.get('Index Name', '')})")
    for child in node.get("Plans", []):
        found += _version_access(child)
    return found


def bench_search(
    rt: Runtime, clerk: Actor, people: list[Person], n: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    work = [
        (label, make(people[i % len(people)], rng))
        for i, (label, make) in ((i, SHAPES[i % len(SHAPES)]) for i in range(n))
    ]
    rng.shuffle(work)
    for _, c in work[:30]:  # warm-up: caches, compiled statements
        queries.search_residents(rt.uow(), clerk, c)
    times: dict[str, list[float]] = {label: [] for label, _ in SHAPES}
    hits = misses = 0
    for label, c in work:
        t = time.perf_counter()
        result = queries.search_residents(rt.uow(), clerk, c)
        times[label].append(ms_since(t))
        hits += result.total > 0
        misses += result.total == 0
    every = [x for v in times.values() for x in v]
    out: dict[str, Any] = {"all": dist(every), "with_hits": hits, "no_hits": misses, "shapes": {}}
    a = out["all"]
    print(
        f"\n4情報 search, {len(every):,} queries of {len(SHAPES)} shapes ({hits} with hits): "
        f"p50 {a['p50_ms']:.2f} / p95 {a['p95_ms']:.2f} / p99 {a['p99_ms']:.2f} ms "
        f"{verdict(a['p95_ms'], GOALS['search_p95_ms'])}"
    )
    # One EXPLAIN ANALYZE per shape, on the very statement search_residents sent.
    print(
        f"  {'shape':28} {'p50':>7} {'p95':>7}  {'SQL exec':>8} {'plan':>6} {'call':>7}"
        "  resident_version via"
    )
    for label, make in SHAPES:
        c = make(people[rng.randrange(len(people))], rng)
        with StatementCatcher(rt.engine) as catcher:
            t = time.perf_counter()
            queries.search_residents(rt.uow(), clerk, c)
            call = ms_since(t)
        assert catcher.last is not None
        statement, params = catcher.last
        with rt.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params
            ).scalar_one()[0]
        d = dist(times[label])
        explained = {
            "execution_ms": round(plan["Execution Time"], 3),
            "planning_ms": round(plan["Planning Time"], 3),
            "call_ms": round(call, 3),
            "indexes": sorted(set(_plan_indexes(plan["Plan"]))),
            "resident_version_access": _version_access(plan["Plan"]),
            "plan": plan,
        }
        out["shapes"][label] = d | {"explain": explained}
        print(
            f"  {label:28} {d['p50_ms']:7.2f} {d['p95_ms']:7.2f}  "
            f"{explained['execution_ms']:8.2f} {explained['planning_ms']:6.2f} {call:7.2f}  "
            f"{' '.join(explained['resident_version_access'])}"
        )
    return out


# -- 異動 throughput ---------------------------------------------------------------------------


def _households(rt: Runtime, n: int, seed: int) -> tuple[list[list[uuid.UUID]], list[int]]:
    """``n`` random current households (all their current members) and the live address ids."""
    with rt.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT setseed({(seed % 997) / 997})")
        rows = conn.execute(
            text(
                "WITH h AS (SELECT household_id FROM registry.resident_version"
                "  WHERE valid_to IS NULL AND superseded_at IS NULL AND NOT removed"
                "  GROUP BY household_id ORDER BY random() LIMIT :n)"
                " SELECT rv.household_id, array_agg(rv.resident_id)"
                " FROM registry.resident_version rv JOIN h USING (household_id)"
                " WHERE rv.valid_to IS NULL AND rv.superseded_at IS NULL AND NOT rv.removed"
                " GROUP BY rv.household_id"
            ),
            {"n": n},
        ).all()
        addresses = list(
            conn.execute(
                text("SELECT id FROM registry.address WHERE abolished_on IS NULL")
            ).scalars()
        )
    return [list(r[1]) for r in rows], addresses


_VERSION_COLUMNS = [c.name for c in ResidentVersion.__table__.columns if c.name != "id"]


def bench_moves(rt: Runtime, clerk: Actor, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    households, addresses = _households(rt, n, seed)
    today = rt.clock.business_date()
    # The plain side: the same columns, indexes and constraints (INCLUDING ALL: the trigram
    # GIN indexes, the open-row unique index, the exclusion constraints), no foreign keys.
    with rt.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench.resident_version_plain")
        conn.exec_driver_sql(
            "CREATE TABLE bench.resident_version_plain"
            " (LIKE registry.resident_version INCLUDING ALL)"
        )
    cols = ", ".join(_VERSION_COLUMNS)
    values = ", ".join(":" + c for c in _VERSION_COLUMNS)
    # Column names come from the model, never from input.
    insert = text(f"INSERT INTO bench.resident_version_plain ({cols}) VALUES ({values})")  # noqa: S608
    fetch = text(
        f"SELECT {cols} FROM registry.resident_version WHERE resident_id = ANY(:ids)"  # noqa: S608
        " AND recorded_at >= :since ORDER BY id"
    )
    service_ms: list[float] = []
    plain_ms: list[float] = []
    refused = 0
    rows_written = 0
    block = 50
    for start in range(0, len(households), block):
        chunk = households[start : start + block]
        since = rt.clock.now()
        moved: list[list[uuid.UUID]] = []
        for members in chunk:
            cmd = services.MoveWithin(
                resident_ids=tuple(members),
                address_id=rng.choice(addresses),
                building=None,
                effective_on=today,
                notified_on=today,
                identification=NOTIFIED,
            )
            t = time.perf_counter()
            try:
                services.move_within(rt.uow(), clerk, cmd)
            except DomainError:
                refused += 1  # e.g. someone whose record changed today already
                continue
            service_ms.append(ms_since(t))
            moved.append(members)
        # The very rows the service just wrote, INSERTed plainly, one transaction per 異動.
        with rt.engine.connect() as conn:
            written = [
                [dict(r._mapping) for r in conn.execute(fetch, {"ids": m, "since": since})]
                for m in moved
            ]
        for rows in written:
            rows_written += len(rows)
            t = time.perf_counter()
            with rt.engine.begin() as conn:
                conn.execute(insert, rows)
            plain_ms.append(ms_since(t))
    service_rate = len(service_ms) / (sum(service_ms) / 1000)
    plain_rate = len(plain_ms) / (sum(plain_ms) / 1000)
    ratio = service_rate / plain_rate
    s, p = dist(service_ms), dist(plain_ms)
    print(
        f"\n異動 (転居, whole household; {len(service_ms):,} 異動, {rows_written:,} version rows,"
        f" {refused} refused):"
    )
    print(
        f"  service path {service_rate:,.0f} 異動/s, plain INSERT {plain_rate:,.0f} 異動/s: "
        f"ratio {ratio:.3f} {verdict(ratio, GOALS['move_service_over_plain'], at_most=False)}"
    )
    print(
        f"  one 異動 (call incl. commit) p50 {s['p50_ms']:.2f} / p95 {s['p95_ms']:.2f} / "
        f"p99 {s['p99_ms']:.2f} ms {verdict(s['p95_ms'], GOALS['move_p95_ms'])}; "
        f"plain INSERT+commit p50 {p['p50_ms']:.2f} / p95 {p['p95_ms']:.2f} ms"
    )
    return {
        "moves": len(service_ms),
        "refused": refused,
        "rows": rows_written,
        "service_per_second": round(service_rate, 1),
        "plain_per_second": round(plain_rate, 1),
        "service_over_plain": round(ratio, 3),
        "service": s,
        "plain": p,
    }


# -- audit overhead ------------------------------------------------------------------------------


def bench_audit(
    rt: Runtime, clerk: Actor, people: list[Person], n: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    ids = [p.resident_id for p in people]

    def read_block(k: int, audited: bool) -> list[float]:
        out = []
        for _ in range(k):
            rid = rng.choice(ids)
            t = time.perf_counter()
            if audited:
                queries.resident_record(rt.uow(), clerk, rid)
            else:
                with unaudited():
                    queries.resident_record(rt.uow(), clerk, rid)
            out.append(ms_since(t))
        return out

    def search_block(k: int, audited: bool) -> list[float]:
        out = []
        for _ in range(k):
            p = rng.choice(people)
            c = SearchCriteria(name=p.name, birth_date=p.birth_date)
            t = time.perf_counter()
            if audited:
                queries.search_residents(rt.uow(), clerk, c)
            else:
                with unaudited():
                    queries.search_residents(rt.uow(), clerk, c)
            out.append(ms_since(t))
        return out

    figures: dict[str, Any] = {}
    print("\naudit overhead (same call, audit row on vs off; interleaved blocks of 50):")
    for label, block in (("resident_record", read_block), ("search_residents", search_block)):
        block(50, False)
        block(50, True)  # warm-up
        plain: list[float] = []
        audited: list[float] = []
        for _ in range(max(1, n // 50)):
            plain += block(50, False)
            audited += block(50, True)
        ratio = statistics.median(audited) / statistics.median(plain)
        figures[label] = {
            "plain_p50_ms": round(statistics.median(plain), 3),
            "audited_p50_ms": round(statistics.median(audited), 3),
            "audited_over_plain": round(ratio, 3),
            "n": len(plain),
        }
        goal = verdict(ratio, GOALS["audited_over_plain"]) if label == "resident_record" else ""
        print(
            f"  {label:17} p50 plain {statistics.median(plain):.2f} ms, audited "
            f"{statistics.median(audited):.2f} ms: audited/plain {ratio:.3f} {goal}"
        )
    return figures


# -- 住民票の写し over HTTP ---------------------------------------------------------------------


@dataclass
class Clerk:
    login_name: str
    totp_secret: str


def enrol_clerks(rt: Runtime, n: int) -> list[Clerk]:
    import pyotp  # noqa: F401  (the login below needs it; fail early if missing)

    operator = Actor.operator()
    privacy.load_roles(rt.uow(), operator)
    run = uuid.uuid4().hex[:6]
    out = []
    for i in range(n):
        created = privacy.create_user(
            rt.uow(),
            operator,
            rt.keys,
            privacy.NewUser(
                f"bench_{run}_{i:02d}",
                f"ベンチ職員 {i:02d}",
                PASSWORD,
                (("counter_clerk", "juki"),),
            ),
        )
        out.append(Clerk(f"bench_{run}_{i:02d}", created.totp_secret))
    return out


def sign_in(base: str, clerk: Clerk) -> httpx.Client:
    import pyotp

    client = httpx.Client(base_url=base, timeout=30.0)
    r = client.post("/login", data={"login_name": clerk.login_name, "password": PASSWORD})
    assert r.status_code in (200, 303), r.status_code
    r = client.post("/login/totp", data={"code": pyotp.TOTP(clerk.totp_secret).now()})
    assert r.status_code in (200, 303) and r.headers.get("location") == "/", r.status_code
    return client


# The 届出人 in person, card checked (REG-CTRL-01): what every 転居 here presents.
NOTIFIED = Identification(ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,))
# The request as the counter sends it: 本人, with the 個人番号カード checked (REG-CTRL-04).
_SELF = {"identification": {"applicant": "self", "documents": ["individual_number_card"]}}


@contextmanager
def serving_processes(rt: Runtime, workers: int) -> Iterator[str]:
    """``machi serve --workers N`` as its own process tree (the production shape: one
    Python process per core), on the bench cluster and keyring."""
    import subprocess
    import sys

    port = free_port()
    env = {
        **os.environ,
        "MACHI_VAR_DIR": str(VAR_DIR),
        "MACHI_DATABASE_URL": rt.engine.url.render_as_string(hide_password=False),
    }
    # The CLI entry point through this interpreter: no reliance on a console script.
    machi = [sys.executable, "-c", "from machi.cli.main import run; run()"]
    args = [*machi, "serve", "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen([*args, "--workers", str(workers)], env=env)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("machi serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def serving(rt: Runtime) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(rt), host=HOST, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def bench_pdf(
    rt: Runtime,
    people: list[Person],
    clients: int,
    total: int,
    seconds: float,
    seed: int,
    workers: int = 1,
) -> dict[str, Any]:
    """Closed loop: ``clients`` signed-in clerks each ask for the next copy as soon as the
    last one arrived. ``workers`` 1 serves from this process (uvicorn in a thread, sharing
    the GIL with the clients); more runs ``machi serve --workers N`` beside it."""
    clerks = enrol_clerks(rt, clients)
    rng = random.Random(seed)
    ids = [str(p.resident_id) for p in people]
    server = serving(rt) if workers == 1 else serving_processes(rt, workers)
    with server as base:
        sessions = [sign_in(base, c) for c in clerks]

        def one(client: httpx.Client, rid: str) -> tuple[float, int]:
            t = time.perf_counter()
            r = client.post("/api/registry/certificates", json={"resident_id": rid, **_SELF})
            return ms_since(t), r.status_code

        for _ in range(3):  # warm-up: WeasyPrint import, fonts
            one(sessions[0], rng.choice(ids))
        alone = [one(sessions[0], rng.choice(ids))[0] for _ in range(20)]

        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        issued = 0
        deadline = time.monotonic() + seconds
        picks = [rng.choice(ids) for _ in range(total)]

        def worker(client: httpx.Client) -> None:
            nonlocal issued
            while time.monotonic() < deadline:
                with lock:
                    if issued >= total:
                        return
                    rid = picks[issued]
                    issued += 1
                ms, status = one(client, rid)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(ms)

        t = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
        for s in sessions:
            s.close()
    d, a = dist(latencies), dist(alone)
    print(
        f"\n住民票の写し PDF over HTTP ({workers} server process(es)), {clients} concurrent "
        f"clerks, {sum(statuses.values())} "
        f"requests in {wall:.1f} s ({len(latencies) / wall:.1f}/s; statuses {statuses}):"
    )
    print(
        f"  p50 {d['p50_ms']:.0f} / p95 {d['p95_ms']:.0f} / p99 {d['p99_ms']:.0f} ms "
        f"{verdict(d['p95_ms'], GOALS['pdf_p95_ms'])}; one client alone p50 "
        f"{a['p50_ms']:.0f} / p95 {a['p95_ms']:.0f} ms"
    )
    return {
        "workers": workers,
        "clients": clients,
        "requests": sum(statuses.values()),
        "statuses": {str(k): v for k, v in statuses.items()},
        "seconds": round(wall, 1),
        "per_second": round(len(latencies) / wall, 2),
        "concurrent": d,
        "alone": a,
    }


# -- profiling ---------------------------------------------------------------------------------


def profiled(label: str, fn: Callable[[], object]) -> None:
    """One call under pyinstrument (or cProfile), the report written next to the keys."""
    out = VAR_DIR / f"profile-{label}.txt"
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.runcall(fn)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        out.write_text(buf.getvalue(), encoding="utf-8")
    else:
        profiler = Profiler(interval=0.0005)
        with profiler:
            fn()
        out.write_text(profiler.output_text(show_all=False), encoding="utf-8")
    print(f"  profile: {out}")


def profile_all(rt: Runtime, clerk: Actor, people: list[Person], seed: int) -> None:
    rng = random.Random(seed + 1)
    print("\nprofiles (one call each):")
    for label, make in SHAPES:
        c = make(rng.choice(people), rng)
        profiled(
            f"search-{label.split('+')[0].split('(')[0]}",
            lambda c=c: queries.search_residents(rt.uow(), clerk, c),
        )
    rid = rng.choice(people).resident_id
    profiled("record", lambda: queries.resident_record(rt.uow(), clerk, rid))
    households, addresses = _households(rt, 1, seed + 7)
    today = rt.clock.business_date()
    cmd = services.MoveWithin(
        resident_ids=tuple(households[0]),
        address_id=rng.choice(addresses),
        building=None,
        effective_on=today,
        notified_on=today,
        identification=NOTIFIED,
    )
    profiled("move_within", lambda: services.move_within(rt.uow(), clerk, cmd))
    office = services.IssuingOffice.from_settings(rt.settings)
    from machi.registry.certificates import CertificateKind, CertificateOptions
    from machi.registry.rules import RequesterType

    request = services.CertificateRequest(
        resident_ids=(rng.choice(people).resident_id,),
        kind=CertificateKind.RESIDENT_RECORD_COPY,
        options=CertificateOptions(),
        requester_type=RequesterType.SELF,
        identification=NOTIFIED,
    )
    profiled(
        "certificate",
        lambda: services.issue_certificate(rt.uow(), clerk, rt.keys, office, request),
    )


# -- main -----------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem, 1),
    }


def save(figures: dict[str, Any], out: Path | None) -> Path:
    """Merged into the day's results file under "registry", beside bench.run's figures."""
    if out is None:
        out = RESULTS / f"{datetime.now().date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if out.exists():
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except ValueError:
            data = {}
    data.setdefault("machine", machine())
    data["registry"] = figures
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--moves", type=int, default=2_000)
    parser.add_argument("--record-reads", type=int, default=1_000)
    parser.add_argument("--pdf-clients", type=int, default=10)
    parser.add_argument("--pdf-requests", type=int, default=500)
    parser.add_argument("--pdf-seconds", type=float, default=60.0)
    parser.add_argument(
        "--pdf-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="also measure with `machi serve --workers N` (default: the CPU count; 1 = skip)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="leave the cluster for inspection")
    parser.add_argument(
        "--reuse", action="store_true", help="measure a cluster left by --keep (no build)"
    )
    parser.add_argument(
        "--phases",
        default="search,audit,moves,pdf",
        help="comma-separated subset of search,audit,moves,pdf",
    )
    parser.add_argument(
        "--plan-cache-mode",
        choices=("auto", "force_custom_plan", "force_generic_plan"),
        help="what-if: SET plan_cache_mode on every app connection",
    )
    parser.add_argument("--out", type=Path, help="results file (default bench/results/<date>.json)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile one search, one 異動 and one certificate (pyinstrument if installed, "
        "else cProfile) into var/bench-registry/profile-*.txt",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    phases = set(args.phases.split(","))
    server = EmbeddedPostgres(PG_DIR)
    if not args.reuse:
        server.destroy()
        for f in (VAR_DIR / "keys").glob("*"):
            f.unlink()
    server.start()
    figures: dict[str, Any] = {"residents": args.residents, "machine": machine()}
    try:
        if args.reuse:
            settings = Settings(var_dir=VAR_DIR)
            rt = bootstrap.build(settings, server.url(role=APP_ROLE, database="machi"))
            with rt.engine.connect() as conn:
                figures["residents"] = conn.exec_driver_sql(
                    "SELECT count(*) FROM registry.resident WHERE status = 'current'"
                ).scalar_one()
        else:
            rt, figures["build"] = build(server, args.residents)
            figures["build"]["analyze_seconds"] = round(analyze(server), 1)
            print(f"VACUUM ANALYZE: {figures['build']['analyze_seconds']} s")
            admin = make_engine(server.url(database="machi"))
            with admin.begin() as conn:
                conn.exec_driver_sql("CREATE SCHEMA bench")
                conn.exec_driver_sql(f"GRANT ALL ON SCHEMA bench TO {APP_ROLE}")
            admin.dispose()
        if args.plan_cache_mode:
            mode = args.plan_cache_mode

            @event.listens_for(rt.engine, "connect")
            def _plan_cache_mode(dbapi_conn: Any, _record: Any) -> None:
                with dbapi_conn.cursor() as cur:
                    cur.execute(f"SET plan_cache_mode = {mode}")
                dbapi_conn.commit()

            rt.engine.dispose()
            figures["plan_cache_mode"] = mode
            print(f"plan_cache_mode = {mode} on every app connection")
        clerk = clerk_actor(uuid.uuid4())  # a synthetic clerk; recorded_by has no FK
        people = sample_people(rt, 2_000, args.seed)

        if "search" in phases:
            figures["search"] = bench_search(rt, clerk, people, args.queries, args.seed)
        if "audit" in phases:
            figures["audit"] = bench_audit(rt, clerk, people, args.record_reads, args.seed)
        if "moves" in phases:
            figures["moves"] = bench_moves(rt, clerk, args.moves, args.seed)
        if "pdf" in phases:
            figures["pdf"] = bench_pdf(
                rt, people, args.pdf_clients, args.pdf_requests, args.pdf_seconds, args.seed
            )
            if args.pdf_workers > 1:
                try:
                    figures["pdf_workers"] = bench_pdf(
                        rt,
                        people,
                        args.pdf_clients,
                        args.pdf_requests,
                        args.pdf_seconds,
                        args.seed,
                        workers=args.pdf_workers,
                    )
                except (OSError, RuntimeError) as e:  # the figures above must not be lost
                    print(f"\nPDF with {args.pdf_workers} server processes: not measured ({e})")
                    figures["pdf_workers"] = {"error": str(e)}
        if args.profile:
            profile_all(rt, clerk, people, args.seed)
        rt.engine.dispose()
    finally:
        # What was measured is kept even when a later phase fails.
        figures["total_seconds"] = round(time.perf_counter() - started, 1)
        print(f"\ntotal {figures['total_seconds']:.0f} s; results: {save(figures, args.out)}")
        # A reused cluster took minutes to build: it stays. A fresh one goes unless --keep.
        if not (args.keep or args.reuse):
            server.destroy()


if __name__ == "__main__":
    main()
