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
        it = iter(ids * 3)
        reader = Actor.operator()
        query = text("SELECT name, name_kana, birth_date FROM synth.person WHERE id = :id")

        def plain() -> None:
            with uow:
                uow.session.execute(query, {"id": next(it)}).one()
                uow.commit()

        def audited() -> None:
            with uow:
                pid = next(it)
                uow.session.execute(query, {"id": pid}).one()
                audit.record(uow, reader, action="bench.read_person", subjects=[pid])
                uow.commit()

        timed(plain, 200)  # warm-up
        # Interleave so drift in machine speed hits both alike.
        a, b = [], []
        for _ in range(args.reads // 100):
            a += timed(plain, 100)
            b += timed(audited, 100)
        ratio = statistics.median(b) / statistics.median(a)
        print(
            f"read p50/p95 ms: plain {statistics.median(a):.3f}/{percentile(a, 0.95):.3f}, "
            f"audited {statistics.median(b):.3f}/{percentile(b, 0.95):.3f}; "
            f"audited/plain median ratio {ratio:.2f} (goal <= 1.10)"
        )
        engine.dispose()
    finally:
        server.destroy()

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now().date().isoformat()}.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"platform": platform.platform(), "python": platform.python_version()},
                "synth_rows_per_second": round(report.rows_per_second),
                "synth_residents": args.residents,
                "read_plain_p50_ms": statistics.median(a),
                "read_audited_p50_ms": statistics.median(b),
                "audited_over_plain": ratio,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
