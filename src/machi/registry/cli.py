"""``machi registry``: bulk operations on the resident registry, run by an operator."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from machi.bootstrap import Runtime
from machi.privacy.actor import Actor
from machi.registry import queries, services

app = typer.Typer(help="住民基本台帳の一括操作", no_args_is_help=True)
out = Console()


def import_town_with_progress(rt: Runtime) -> services.ImportReport:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} 人"),
        TimeElapsedColumn(),
        console=out,
    ) as progress:
        task = progress.add_task("架空の町を住民基本台帳へ取込み (個人番号を暗号化して保管)")
        report = services.import_town(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            services.TownImport(),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    out.print(
        f"取込み完了: 世帯 {report.households:,}、住民 {report.current_residents:,}、"
        f"除票 {report.removed_records:,}、個人番号 {report.individual_numbers:,}"
    )
    return report


@app.command("import-town")
def import_town() -> None:
    """投入済みの架空の町 (synth) を、空の住民基本台帳へ取り込む。"""
    from machi.cli.common import fail, runtime, settings

    rt = runtime(settings())
    if queries.registry_loaded(rt.uow(), Actor.operator()):
        fail("住民基本台帳にはすでに住民がいます。取込みは空の台帳にのみ行えます")
    import_town_with_progress(rt)
