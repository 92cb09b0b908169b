"""What every sub-command shares: settings, the runtime, one-line failures."""

from __future__ import annotations

from typing import NoReturn

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core import database
from machi.core.settings import Settings


def settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def runtime(s: Settings) -> Runtime:
    return bootstrap.build(s, database.app_url(s))


class CommandRefused(Exception):
    """Bad arguments or state: ``run`` prints the message on one line and exits 2."""


def fail(message: str) -> NoReturn:
    raise CommandRefused(message)
