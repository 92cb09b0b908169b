"""Settings from the environment (prefix ``MACHI_``) or a ``.env`` file.

Settings are an immutable object built once by the CLI or app factory and passed in;
nothing reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MACHI_", env_file=".env", frozen=True)

    # Where embedded PostgreSQL keeps its data, the keys and other local state.
    var_dir: Path = Path("var")
    # An external PostgreSQL (``postgresql+psycopg://...``); empty means the embedded server.
    database_url: str = ""
    # Role that owns the schemas and runs migrations on an external database.
    database_owner_url: str = ""
    database_name: str = "machi"

    municipality_name: str = "架空市"
    # Printed under the 認証文 of certificates.
    mayor_title: str = "架空市長"
    mayor_name: str = "見本 太郎"
    # Where the public reaches this system: certificates' QR codes point here.
    public_base_url: str = "http://127.0.0.1:8000"
    # 全国地方公共団体コード of the municipality running Machi (6 digits with check digit).
    local_government_code: str = "999997"

    # Demo mode labels every page and prints demo credentials; never on in production.
    demo: bool = False
    # Idle minutes before the screen locks (controls.md: 一定時間操作がない場合の画面ロック).
    idle_lock_minutes: int = Field(default=10, ge=1, le=120)
    # Failed logins in a row that lock an account.
    max_failed_logins: int = Field(default=5, ge=1, le=20)
    # Signed-in sessions one user may hold at once; a new login ends the oldest.
    max_sessions_per_user: int = Field(default=1, ge=1, le=10)
    # Log retention in years per log class where this municipality's 評価書 differs from
    # the defaults (machi.privacy.retention), e.g. MACHI_RETENTION_YEARS='{"jukinet": 8}'.
    retention_years: dict[str, int] = Field(default_factory=dict)
    # Secret for signing session cookies; generated into var/ on first start when empty.
    secret_key: str = ""
    # Cookies need HTTPS in production; the demo serves plain HTTP on 127.0.0.1.
    secure_cookies: bool = False

    @property
    def pg_data_dir(self) -> Path:
        return self.var_dir / "pg"
