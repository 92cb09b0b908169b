"""The ``machi`` command: bad arguments give one line on stderr and exit 2, never a
traceback (issue: Foundation, item 5). Run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def machi(*args: str, var: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MACHI_VAR_DIR": str(var), **extra_env}
    env.pop("MACHI_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "machi.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--no-such-option",),
        ("no-such-command",),
        ("synth", "--residents", "-5"),
        ("synth", "--residents", "many"),
        ("serve", "--port", "70000"),
        ("users", "create", "x", "--name", "y", "--grant", "no-at-sign", "--password", "p"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    done = machi(*args, var=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("エラー: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_help_lists_the_command_groups(tmp_path: Path) -> None:
    done = machi("--help", var=tmp_path)
    assert done.returncode == 0
    for group in ("demo", "serve", "db", "synth", "users", "keys", "audit", "relay"):
        assert group in done.stdout


def test_db_status_of_a_never_started_server(tmp_path: Path) -> None:
    done = machi("db", "status", var=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "停止中" in done.stdout


@pytest.mark.slow  # starts its own embedded cluster: about 5 s
def test_db_lifecycle_backup_and_restore(tmp_path: Path) -> None:
    var = tmp_path / "var"
    try:
        assert machi("db", "upgrade", var=var).returncode == 0
        assert "稼働中" in machi("db", "status", var=var).stdout
        plan = machi("audit", "retention", var=var)
        assert plan.returncode == 0 and "保存期間: 10年" in plan.stdout, plan.stderr
        longer = machi("audit", "retention", var=var, MACHI_RETENTION_YEARS='{"jukinet": 12}')
        assert "保存期間: 12年" in longer.stdout
        bad = machi("audit", "retention", var=var, MACHI_RETENTION_YEARS='{"nosuch": 3}')
        assert bad.returncode == 2 and "保存期間を設定できないログ区分です" in bad.stderr
        dump = tmp_path / "machi.dump"
        done = machi("db", "backup", "--out", str(dump), var=var)
        assert done.returncode == 0, done.stderr
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        again = machi("db", "backup", "--out", str(dump), var=var)
        assert again.returncode == 2  # refuses to overwrite
        done = machi("db", "restore", str(dump), var=var)
        assert done.returncode == 0, done.stderr
        assert machi("db", "upgrade", var=var).returncode == 0  # restored schema is at head
    finally:
        machi("db", "stop", var=var)
    assert "停止中" in machi("db", "status", var=var).stdout
