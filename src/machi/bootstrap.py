"""Builds what a running Machi needs (engine, sessions, clock, keys) once, for the web
app, the CLI and tests alike. Nothing here runs at import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from machi.core.clock import Clock, SystemClock
from machi.core.db import make_engine, make_sessions
from machi.core.settings import Settings
from machi.core.uow import UnitOfWork
from machi.privacy.keys import Keyring


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    keys: Keyring

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)


def build(
    settings: Settings,
    url: str,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> Runtime:
    engine = engine or make_engine(url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions or make_sessions(engine),
        clock=clock or SystemClock(),
        keys=Keyring.load_or_create(settings.var_dir / "keys" / "keyring.json"),
    )
