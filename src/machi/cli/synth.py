"""``machi synth``: load a synthetic town (never real people's data)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from machi.bootstrap import Runtime
from machi.cli.common import fail, runtime, settings
from machi.core import database
from machi.privacy.actor import Actor
from machi.synth import services as synth_services

out = Console()


def load_with_progress(rt: Runtime, *, residents: int, seed: int) -> None:
    s = rt.settings
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
    ) as progress:
        task = progress.add_task("架空の町を生成・投入", total=residents)
        report = synth_services.load_town(
            rt.uow(),
            Actor.operator(),
            residents=residents,
            seed=seed,
            municipality_name=s.municipality_name,
            local_government_code=s.local_government_code,
            as_of=rt.clock.business_date(),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    total_rows = sum(report.rows.values())
    out.print(
        f"投入完了: 住民 {residents:,} 人、全 {total_rows:,} 行、{report.seconds:.1f} 秒 "
        f"({report.rows_per_second:,.0f} 行/秒)"
    )


def synth(
    residents: Annotated[int, typer.Option(min=1, max=5_000_000, help="住民数")] = 50_000,
    seed: Annotated[int, typer.Option(help="乱数の種 (同じ種なら同じ町)")] = 1,
    replace: Annotated[
        bool, typer.Option("--replace", help="既存の架空の町を消して作り直す")
    ] = False,
) -> None:
    """架空の町 (住所、世帯、住民、異動、所得、口座) を生成して投入する。"""
    s = settings()
    database.ensure_ready(s)
    rt = runtime(s)
    if synth_services.town_loaded(rt.uow(), Actor.operator()):
        if not replace:
            fail("架空の町は投入済みです。作り直すには --replace を付けてください")
        synth_services.clear_town(rt.uow(), Actor.operator())
    load_with_progress(rt, residents=residents, seed=seed)
