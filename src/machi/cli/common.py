"""What every sub-command shares: settings, the runtime, one-line failures."""

from __future__ import annotations

from typing import NoReturn

import click

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core import database
from machi.core.settings import Settings


def settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def runtime(s: Settings) -> Runtime:
    return bootstrap.build(s, database.app_url(s))


def fail(message: str) -> NoReturn:
    """Refuse with one line and exit status 2."""
    raise click.UsageError(message)
