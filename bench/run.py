"""``make bench``: measurements printed as figures and ratios, never asserted in tests.

Builds a throwaway embedded cluster under var/bench-pg, loads a synthetic town and
measures what is built so far. Results go to bench/results/<date>.json.

    python -m bench.run [--residents N] [--reads N]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from machi.core import database
from machi.core.clock import SystemClock
from machi.core.db import APP_ROLE, OWNER_ROLE, make_engine, make_sessions
from machi.core.pgserver import EmbeddedPostgres
from machi.core.uow import UnitOfWork
from machi.privacy import audit
from machi.privacy.actor import Actor
from machi.synth import services as synth

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--reads", type=int, default=2_000)
    args = parser.parse_args()

    server = EmbeddedPostgres(ROOT / "var" / "bench-pg")
    server.destroy()
    server.start()
    try:
        database.create_roles_and_database(server.url(), "machi")
        database.upgrade(server.url(role=OWNER_ROLE, database="machi"))
        engine = make_engine(server.url(role=APP_ROLE, database="machi"))
        uow = UnitOfWork(make_sessions(engine), SystemClock())
        operator = Actor.operator()

        report = synth.load_town(
            uow,
            operator,
            residents=args.residents,
            seed=1,
            municipality_name="架空市",
            local_government_code="999997",
            as_of=SystemClock().business_date(),
        )
        print(
            f"synth load: {args.residents:,} residents, {report.total_rows:,} rows in "
            f"{report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s"
        )

        with engine.connect() as conn:
            ids = list(
                conn.execute(
                    text("SELECT id FROM synth.person ORDER BY random() LIMIT :n"),
                    {"n": args.reads},
                ).scalars()
            )
        it = iter(ids * 6)
        reader = Actor.operator()
        point = text("SELECT name, name_kana, birth_date FROM synth.person WHERE id = :id")
        # What a record screen reads: the person, the household's members, the address,
        # the incomes. The registry bench replaces this with the registry's own view.
        record = [
            text("SELECT * FROM synth.person WHERE id = :id"),
            text(
                "SELECT m.id, m.name, m.relationship_code FROM synth.person m "
                "JOIN synth.person p ON p.household_id = m.household_id WHERE p.id = :id"
            ),
            text(
                "SELECT a.lot, t.name FROM synth.person p JOIN synth.address a "
                "ON a.id = p.address_id JOIN synth.town_area t ON t.id = a.town_area_id "
                "WHERE p.id = :id"
            ),
            text("SELECT fiscal_year, category, amount FROM synth.income WHERE person_id = :id"),
        ]

        def reading(queries: list[Any], audited: bool) -> Callable[[], None]:
            def run() -> None:
                with uow:
                    pid = next(it)
                    for q in queries:
                        uow.session.execute(q, {"id": pid}).all()
                    if audited:
                        audit.record(uow, reader, action="bench.read_person", subjects=[pid])
                    uow.commit()

            return run

        figures: dict[str, float] = {}
        for label, queries in (("point", [point]), ("record", record)):
            plain, audited = reading(queries, False), reading(queries, True)
            timed(plain, 200)  # warm-up
            # Interleave so drift in machine speed hits both alike.
            a, b = [], []
            for _ in range(max(1, args.reads // 200)):
                a += timed(plain, 100)
                b += timed(audited, 100)
            ratio = statistics.median(b) / statistics.median(a)
            figures |= {
                f"{label}_plain_p50_ms": statistics.median(a),
                f"{label}_audited_p50_ms": statistics.median(b),
                f"{label}_audited_over_plain": ratio,
            }
            print(
                f"{label} read p50/p95 ms: plain {statistics.median(a):.3f}/"
                f"{percentile(a, 0.95):.3f}, audited {statistics.median(b):.3f}/"
                f"{percentile(b, 0.95):.3f}; audited/plain {ratio:.2f} (goal <= 1.10)"
            )
        engine.dispose()
    finally:
        server.destroy()

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now().date().isoformat()}.json"
    # Merged: bench.registry keeps its figures under "registry" in the same day's file.
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    data.update(
        {
            "machine": {"platform": platform.platform(), "python": platform.python_version()},
            "synth_rows_per_second": round(report.rows_per_second),
            "synth_residents": args.residents,
            **figures,
        }
    )
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
