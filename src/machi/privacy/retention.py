"""How long logs are kept (controls.md LOG-07, RET-01) and which audit rows have outlived
that: planning only.

The application can never delete audit rows (LOG-14: the app role has INSERT and SELECT
only, and a trigger refuses DELETE for everyone). Removing expired rows is a maintenance
operation of the database owner: write a checkpoint, archive the rows up to a checkpoint
boundary, then remove them (docs/audit.md, "Retention and archiving"). This module only
says how many rows are past retention and where the boundary lies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import text
from sqlalchemy.orm import Session

from machi.core.clock import JST


class LogClass(StrEnum):
    """Log classes with their own retention in the 評価書 (004 III-3..III-6)."""

    JUKI_OPERATION = "juki_operation"  # 既存住基 operation logs
    INTERMEDIARY_OPERATOR = "intermediary_operator"  # 中間サーバー operator records
    JUKINET = "jukinet"  # 住基ネット logs
    CONTRACTOR_OPERATION = "contractor_operation"  # contractor operation logs
    PROVISION_JUKI = "provision_juki"  # 提供・移転 records (住基)
    PROVISION_IDENTITY = "provision_identity"  # 提供・移転 records (本確, 送付)
    HANDOVER_SLIP = "handover_slip"  # 受渡し票 of contractors


# Minimum years from 004 (controls.md LOG-07). A municipality whose 評価書 says otherwise
# passes overrides; the defaults are the seeds' figures, not a legal floor.
DEFAULT_RETENTION_YEARS: Mapping[LogClass, int] = MappingProxyType(
    {
        LogClass.JUKI_OPERATION: 10,
        LogClass.INTERMEDIARY_OPERATOR: 7,  # 004 cites 番号法施行令
        LogClass.JUKINET: 7,
        LogClass.CONTRACTOR_OPERATION: 5,
        LogClass.PROVISION_JUKI: 5,
        LogClass.PROVISION_IDENTITY: 7,
        LogClass.HANDOVER_SLIP: 5,
    }
)


def retention_years(overrides: Mapping[str, int] | None = None) -> dict[LogClass, int]:
    """The defaults with ``overrides`` (``{"jukinet": 8}``) applied. An unknown class or a
    period under one year is refused: a typo must not silently keep the default."""
    years = dict(DEFAULT_RETENTION_YEARS)
    for name, value in (overrides or {}).items():
        try:
            cls = LogClass(name)
        except ValueError:
            raise ValueError(f"保存期間を設定できないログ区分です: {name}") from None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"保存期間は1以上の年数で指定してください: {name}={value!r}")
        years[cls] = value
    return years


def audit_log_years(overrides: Mapping[str, int] | None = None) -> int:
    """privacy.audit_log holds every class in one chain and its rows carry no class, so it
    is kept for the longest period of any class."""
    return max(retention_years(overrides).values())


@dataclass(frozen=True)
class PurgePlan:
    as_of: date
    years: int
    # Rows recorded before this day (JST) are past retention.
    cutoff: date
    # The longest run of ids from the start of the log whose rows are all older than the
    # cutoff (so what remains is still one unbroken chain).
    expired_rows: int
    last_expired_id: int | None
    # Where to cut: the last checkpoint at or before last_expired_id. Verification
    # anchors the kept rows on it; rows between it and last_expired_id wait for the next
    # run (retention is a minimum, keeping them longer is allowed).
    checkpoint_id: int | None
    archive_through_id: int | None
    archive_rows: int
    # row_hash at archive_through_id (hex): the first kept row links to it.
    boundary_hash: str | None


def cutoff_for(as_of: date, years: int) -> date:
    """``as_of`` moved back ``years`` years; 29 February becomes 28 February."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


def purge_plan(session: Session, as_of: date, years: int) -> PurgePlan:
    """How many audit rows are older than ``years`` on ``as_of``, the id boundary, and the
    checkpoint to cut at. Reads only; the archive itself is the owner's procedure in
    docs/audit.md."""
    cutoff = cutoff_for(as_of, years)
    before = datetime.combine(cutoff, time(0), tzinfo=JST)
    # The run stops at the first young row even if older ones follow it: ids are commit
    # order, and cutting inside the chain would leave a gap verification reports.
    expired = session.execute(
        text(
            "WITH young AS (SELECT min(id) AS id FROM privacy.audit_log WHERE at >= :before) "
            "SELECT count(a.id) AS n, max(a.id) AS last_id FROM privacy.audit_log a, young "
            "WHERE young.id IS NULL OR a.id < young.id"
        ),
        {"before": before},
    ).one()
    cut = None
    if expired.last_id is not None:
        cut = session.execute(
            text(
                "SELECT c.id, c.last_audit_id, a.row_hash, "
                "  (SELECT count(*) FROM privacy.audit_log WHERE id <= c.last_audit_id) AS n "
                "FROM privacy.audit_checkpoint c "
                "JOIN privacy.audit_log a ON a.id = c.last_audit_id "
                "WHERE c.last_audit_id <= :last ORDER BY c.last_audit_id DESC, c.id DESC LIMIT 1"
            ),
            {"last": expired.last_id},
        ).first()
    return PurgePlan(
        as_of=as_of,
        years=years,
        cutoff=cutoff,
        expired_rows=expired.n,
        last_expired_id=expired.last_id,
        checkpoint_id=cut.id if cut else None,
        archive_through_id=cut.last_audit_id if cut else None,
        archive_rows=cut.n if cut else 0,
        boundary_hash=bytes(cut.row_hash).hex() if cut else None,
    )
