"""Plain helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp


@dataclass(frozen=True)
class FreshDatabase:
    name: str
    app_url: str
    owner_url: str
    superuser_url: str


@dataclass(frozen=True)
class Enrolled:
    login_name: str
    password: str
    totp: pyotp.TOTP
