"""Read-side actions of the privacy context: the daily review of the audit log
(controls.md LOG-08) and its verification (LOG-14). Reading the audit log is itself
audited, in the same transaction as the read.

The review is built with set-based SQL (GROUP BY in PostgreSQL) over one JST day. It
shows ids only: staff login names, terminals, action codes, subject ids and counts. It
never shows a detail value, a name, an address or a 個人番号; the log holds none by design,
and the report does not render ``detail`` so a careless writer cannot leak one through it.

Conventions the review relies on (docs/audit.md):

- a bulk export is an action whose code ends with ``.export`` or whose detail has
  ``"bulk": true``;
- a 個人番号 view is the action ``privacy.view_individual_number``;
- a login failure is ``privacy.login`` with outcome ``denied``; a lockout has
  ``"locked": true`` in its detail.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import text
from sqlalchemy.orm import Session

from machi.core import calendar
from machi.core.clock import JST
from machi.core.errors import CoreError, DomainError
from machi.core.uow import UnitOfWork
from machi.core.wareki import to_wareki
from machi.privacy import audit, checkpoints
from machi.privacy.access import authorised
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.privacy.signing import AuditVerifier

NUMBER_VIEW_ACTION = "privacy.view_individual_number"
LOGIN_ACTION = "privacy.login"
BULK_EXPORT_SUFFIX = ".export"
# Audit rows without a staff user: the operator at the server (terminal "cli") and login
# attempts with an unknown name.
NO_STAFF_LABEL = "（職員IDなし）"
# Debian's fonts-ipaexfont. Looked up when rendering, never bundled (design.md: PDFs).
FONT_CANDIDATES: tuple[Path, ...] = (Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),)
TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class ReviewRules:
    """Thresholds of the daily review. Defaults are the values the 情報セキュリティ責任者
    reviews against (docs/audit.md); a caller may pass others."""

    # Office hours in JST; access outside [open, close) is listed, as is any access on a
    # day that is not a business day (machi.core.calendar).
    office_open: time = time(8, 0)
    office_close: time = time(19, 0)
    # A user's count for the day is unusual when it reaches ``volume_factor`` times the
    # median of all users that day or times their own daily average over
    # ``history_days`` calendar days before it, and is at least ``volume_min_actions``.
    volume_factor: float = 3.0
    volume_min_actions: int = 50
    history_days: int = 28
    # Subject ids listed per line of 個人番号 views (the count is always complete).
    listed_subjects: int = 20


@dataclass(frozen=True)
class ActionCount:
    action: str
    outcome: str
    count: int


@dataclass(frozen=True)
class UserVolume:
    user: str
    count: int
    own_daily_average: float
    median: float
    above_median: bool
    above_own_average: bool


@dataclass(frozen=True)
class AccessGroup:
    """Rows of one user, terminal and action (off-hours access, refusals)."""

    user: str
    terminal: str
    action: str
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class NumberViews:
    user: str
    terminal: str
    affair: str | None
    purpose: str | None
    views: int
    subjects: int
    subject_ids: tuple[str, ...]


@dataclass(frozen=True)
class BulkExport:
    at: datetime
    user: str
    terminal: str
    affair: str | None
    action: str
    outcome: str
    subjects: int


@dataclass(frozen=True)
class LoginFailures:
    user: str
    terminal: str
    count: int
    locked: bool


@dataclass(frozen=True)
class Lockout:
    at: datetime
    user: str
    terminal: str


@dataclass(frozen=True)
class CheckpointInfo:
    id: int
    at: datetime
    last_audit_id: int
    rows: int
    head_hash: str


@dataclass(frozen=True)
class AuditReport:
    """The daily review of one JST day. Render with :meth:`html` and :meth:`pdf`."""

    day: date
    business_day: bool
    generated_at: datetime
    generated_by: str
    rules: ReviewRules
    total: int
    totals: tuple[ActionCount, ...]
    unusual_volume: tuple[UserVolume, ...]
    off_hours: tuple[AccessGroup, ...]
    refusals: tuple[AccessGroup, ...]
    number_views: tuple[NumberViews, ...]
    bulk_exports: tuple[BulkExport, ...]
    login_failures: tuple[LoginFailures, ...]
    lockouts: tuple[Lockout, ...]
    latest_checkpoint: CheckpointInfo | None
    # Median of all staff users' counts that day (the unusual-volume baseline).
    median: float

    def html(self, *, fonts: Sequence[Path] = FONT_CANDIDATES) -> str:
        font = next((p for p in fonts if p.is_file()), None)
        return (
            _environment()
            .get_template("privacy/audit_report.html")
            .render(
                r=self,
                font_url=font.as_uri() if font else None,
                day_wareki=to_wareki(self.day),
                weekday="月火水木金土日"[self.day.weekday()],
                generated_wareki=to_wareki(self.generated_at.astimezone(JST).date()),
            )
        )

    def pdf(self, *, fonts: Sequence[Path] = FONT_CANDIDATES) -> bytes:
        import weasyprint  # heavy; only the PDF needs it

        pdf: bytes = weasyprint.HTML(string=self.html(fonts=fonts)).write_pdf()
        return pdf


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["hms"] = lambda t: t.astimezone(JST).strftime("%H:%M:%S")
    env.filters["ymdhm"] = lambda t: t.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    return env


@authorised(Permission.PRIVACY_VIEW_AUDIT_LOG)
def audit_report(
    uow: UnitOfWork, actor: Actor, *, day: date, rules: ReviewRules | None = None
) -> AuditReport:
    """The daily review (LOG-08) of ``day`` (a JST calendar day)."""
    if not calendar.EARLIEST_DATE <= day <= calendar.LATEST_DATE:
        # Off-hours depend on the business-day calendar, which covers this range only.
        raise DomainError(
            CoreError.INVALID_INPUT,
            f"対象日は{calendar.EARLIEST_DATE.isoformat()}から"
            f"{calendar.LATEST_DATE.isoformat()}までの日付を指定してください。",
            field="day",
        )
    rules = rules or ReviewRules()
    with uow:
        report = _build(uow.session, day, rules, now=uow.clock.now(), by=actor.login_name)
        audit.record(
            uow,
            actor,
            action="privacy.audit_report",
            detail={"day": day.isoformat(), "rows": report.total},
        )
        uow.commit()
    return report


@authorised(Permission.PRIVACY_VERIFY_AUDIT_LOG)
def verify_audit_log(
    uow: UnitOfWork, actor: Actor, verifier: AuditVerifier
) -> checkpoints.VerifyResult:
    """Recompute the chain and check every signed checkpoint against it (LOG-14)."""
    with uow:
        result = checkpoints.verify(uow.session, verifier)
        audit.record(
            uow,
            actor,
            action="privacy.verify_audit_log",
            detail={
                "rows_checked": result.rows_checked,
                "first_broken_id": result.first_broken_id,
                "checkpoints_checked": result.checkpoints_checked,
                "first_bad_checkpoint_id": result.first_bad_checkpoint_id,
                "truncated": result.truncated,
            },
        )
        uow.commit()
    return result


# -- building the report ----------------------------------------------------------------

# Every section reads the same day through this CTE; the staff join turns user ids into
# login names so the report needs no second lookup.
_DAY = """
WITH d AS (
  SELECT a.id, a.at, a.actor_user_id, a.terminal, a.affair, a.purpose, a.action,
         a.subject_ids, a.outcome, a.detail, coalesce(u.login_name, :no_staff) AS who
  FROM privacy.audit_log a LEFT JOIN privacy.staff_user u ON u.id = a.actor_user_id
  WHERE a.at >= :start AND a.at < :end
)
"""

_TOTALS = (
    _DAY
    + """
SELECT action, outcome, count(*) AS n FROM d
GROUP BY action, outcome ORDER BY action COLLATE "C", outcome COLLATE "C"
"""
)

_VOLUME = """
WITH mine AS (
  SELECT actor_user_id, count(*) AS n FROM privacy.audit_log
  WHERE at >= :start AND at < :end AND actor_user_id IS NOT NULL GROUP BY actor_user_id
), before AS (
  SELECT actor_user_id, count(*)::float8 / :history_days AS avg FROM privacy.audit_log
  WHERE at >= :history_start AND at < :start AND actor_user_id IS NOT NULL
  GROUP BY actor_user_id
), med AS (
  SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY n), 0) AS m FROM mine
)
SELECT coalesce(u.login_name, mine.actor_user_id::text) AS who, mine.n,
       coalesce(before.avg, 0) AS avg, med.m,
       mine.n >= :factor * med.m AS above_median,
       mine.n >= :factor * coalesce(before.avg, 0) AS above_own
FROM mine CROSS JOIN med
LEFT JOIN before USING (actor_user_id)
LEFT JOIN privacy.staff_user u ON u.id = mine.actor_user_id
ORDER BY mine.n DESC, coalesce(u.login_name, mine.actor_user_id::text) COLLATE "C"
"""

_OFF_HOURS = (
    _DAY
    + """
SELECT who, terminal, action, count(*) AS n, min(at) AS first_at, max(at) AS last_at FROM d
WHERE :closed_day
   OR (at AT TIME ZONE 'Asia/Tokyo')::time < :open
   OR (at AT TIME ZONE 'Asia/Tokyo')::time >= :close
GROUP BY who, terminal, action
ORDER BY who COLLATE "C", terminal COLLATE "C", action COLLATE "C"
"""
)

# Login failures have their own section, so refusals here are refused actions.
_REFUSALS = (
    _DAY
    + """
SELECT who, terminal, action, count(*) AS n, min(at) AS first_at, max(at) AS last_at FROM d
WHERE outcome = 'denied' AND action <> :login
GROUP BY who, terminal, action
ORDER BY who COLLATE "C", terminal COLLATE "C", action COLLATE "C"
"""
)

# Refused views are listed under refusals; these are the numbers actually shown.
_NUMBER_VIEWS = (
    _DAY
    + """
SELECT who, terminal, affair, purpose, count(DISTINCT d.id) AS views,
       count(DISTINCT s) AS subjects,
       (array_agg(DISTINCT s COLLATE "C" ORDER BY s COLLATE "C")
          FILTER (WHERE s IS NOT NULL))[1:CAST(:listed AS int)] AS subject_ids
FROM d LEFT JOIN LATERAL unnest(d.subject_ids) AS s ON true
WHERE action = :number_view AND outcome = 'ok'
GROUP BY who, terminal, affair, purpose
ORDER BY who COLLATE "C", terminal COLLATE "C", affair COLLATE "C", purpose COLLATE "C"
"""
)

_BULK_EXPORTS = (
    _DAY
    + """
SELECT at, who, terminal, affair, action, outcome,
       coalesce(cardinality(subject_ids), 0) AS subjects FROM d
WHERE right(action, length(:suffix)) = :suffix OR detail -> 'bulk' = 'true'::jsonb
ORDER BY at, id
"""
)

_LOGIN_FAILURES = (
    _DAY
    + """
SELECT who, terminal, count(*) AS n,
       bool_or(coalesce(detail -> 'locked' = 'true'::jsonb, false)) AS locked
FROM d WHERE action = :login AND outcome = 'denied'
GROUP BY who, terminal ORDER BY who COLLATE "C", terminal COLLATE "C"
"""
)

_LOCKOUTS = (
    _DAY
    + """
SELECT at, who, terminal FROM d
WHERE action = :login AND outcome = 'denied' AND detail -> 'locked' = 'true'::jsonb
ORDER BY at, id
"""
)


def _build(
    session: Session, day: date, rules: ReviewRules, *, now: datetime, by: str
) -> AuditReport:
    start = datetime.combine(day, time(0), tzinfo=JST)
    params: dict[str, Any] = {
        "start": start,
        "end": start + timedelta(days=1),
        "no_staff": NO_STAFF_LABEL,
        "login": LOGIN_ACTION,
    }

    def rows(sql: str, **extra: Any) -> Sequence[Any]:
        return session.execute(text(sql), {**params, **extra}).all()

    totals = tuple(ActionCount(r.action, r.outcome, r.n) for r in rows(_TOTALS))
    volume = rows(
        _VOLUME,
        history_start=start - timedelta(days=rules.history_days),
        history_days=rules.history_days,
        factor=rules.volume_factor,
    )
    median = float(volume[0].m) if volume else 0.0
    unusual = tuple(
        UserVolume(r.who, r.n, float(r.avg), float(r.m), r.above_median, r.above_own)
        for r in volume
        if r.n >= rules.volume_min_actions and (r.above_median or r.above_own)
    )
    off_hours = tuple(
        AccessGroup(r.who, r.terminal, r.action, r.n, r.first_at, r.last_at)
        for r in rows(
            _OFF_HOURS,
            closed_day=not calendar.is_business_day(day),
            open=rules.office_open,
            close=rules.office_close,
        )
    )
    refusals = tuple(
        AccessGroup(r.who, r.terminal, r.action, r.n, r.first_at, r.last_at)
        for r in rows(_REFUSALS)
    )
    number_views = tuple(
        NumberViews(
            r.who, r.terminal, r.affair, r.purpose, r.views, r.subjects, tuple(r.subject_ids or ())
        )
        for r in rows(_NUMBER_VIEWS, number_view=NUMBER_VIEW_ACTION, listed=rules.listed_subjects)
    )
    exports = tuple(
        BulkExport(r.at, r.who, r.terminal, r.affair, r.action, r.outcome, r.subjects)
        for r in rows(_BULK_EXPORTS, suffix=BULK_EXPORT_SUFFIX)
    )
    failures = tuple(
        LoginFailures(r.who, r.terminal, r.n, bool(r.locked)) for r in rows(_LOGIN_FAILURES)
    )
    lockouts = tuple(Lockout(r.at, r.who, r.terminal) for r in rows(_LOCKOUTS))
    latest = checkpoints.latest_checkpoint(session)
    return AuditReport(
        day=day,
        business_day=calendar.is_business_day(day),
        generated_at=now,
        generated_by=by,
        rules=rules,
        total=sum(t.count for t in totals),
        totals=totals,
        unusual_volume=unusual,
        off_hours=off_hours,
        refusals=refusals,
        number_views=number_views,
        bulk_exports=exports,
        login_failures=failures,
        lockouts=lockouts,
        latest_checkpoint=(
            CheckpointInfo(
                latest.id,
                latest.at,
                latest.last_audit_id,
                latest.rows,
                bytes(latest.head_hash).hex(),
            )
            if latest
            else None
        ),
        median=median,
    )
