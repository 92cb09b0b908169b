"""Commands of the resident registry (住民基本台帳): the 異動 of a resident's 届出 (転入, 転出,
転居, 世帯変更), the entries made on a 戸籍 or 入管庁 notice (出生, 死亡, 外国人住民の在留資格等),
the 個人番号 change, the four-eyes drafts of 職権記載/職権修正/職権消除 with their 決裁, the
支援措置, and the one-off import of the synthetic town.

Every public function is declared with its permission (``@authorised``), takes
``(uow, actor, cmd)`` (plus ``keys`` where the vault is used) and runs one ``with uow:``:
load → rules (``machi.registry.rules``; pure) → history → audit → events → commit. A
refusal raises ``DomainError`` and the unit of work rolls back whatever the command had
done so far (its claims included), so bad input writes nothing.

History. A change appends a ``resident_version`` row (``history_no`` + 1) that starts on
the 異動日 and closes the previous row there (``valid_to``); no other column of an existing
row is ever updated (the database grants only ``valid_to`` and ``superseded_at``). A 消除
(転出, 死亡, 職権消除) appends a row with ``removed`` set: the 除票. A 職権修正 supersedes
the wrong rows and inserts corrected ones, so the record "as of" a date and "as recorded
at" an instant can both be read back (``rules.in_force``).

Concurrency. Every command first claims the residents and households it changes by
bumping their ``version`` column with ``WHERE version = <the version seen>`` (the one the
caller displayed, when it passes ``expected_version``). A concurrent change makes that
UPDATE match no row and the command fails with ``ConflictError`` (409) before it has
written anything of its own; the claimed rows stay locked until commit, so two commands on
the same record are serialised, never interleaved. Claims go households first, then
residents, each in id order, so commands wait for each other rather than deadlock. Unique
and exclusion violations raised by the database (one open row, one 世帯主, no overlapping
history) are conflicts too.

Late notices (OQ-01): a 届出 after its period is recorded, never refused (法第52条 fines it,
it does not void it); the flag goes into the audit detail and onto the new version as a
staff memo (``record_note`` kind ``memo``, never printed), because ``resident_version`` has
no column for it.

No personal value (name, address, 個人番号, 住民票コード) is put in an error, a log line, an
audit row or an event: they carry ids, codes and field names only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, NamedTuple, cast

import psycopg
from sqlalchemy import (
    CursorResult,
    Date,
    Integer,
    SmallInteger,
    Table,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, array
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from machi.core.clock import JST
from machi.core.errors import ConflictError, CoreError, DomainError, NotFoundError
from machi.core.events import DomainEvent
from machi.core.numbers import is_valid_local_government_code
from machi.core.settings import Settings
from machi.core.text import normalize_kana, normalize_name
from machi.core.uow import UnitOfWork
from machi.privacy import audit, vault
from machi.privacy.access import PermissionDenied, authorised, open_action
from machi.privacy.actor import Actor
from machi.privacy.keys import Keyring
from machi.privacy.permissions import Permission
from machi.registry import rules
from machi.registry.certificates import (
    CertificateKind,
    CertificateOptions,
    CertificatePerson,
    RemovalFacts,
    build_document,
    render_pdf,
    seal,
    sheet_count,
    verification_code_hash,
    verification_code_matches,
)
from machi.registry.errors import MESSAGES, RegistryError
from machi.registry.events import (
    ForeignResidentStatusChanged,
    HouseholdChanged,
    IndividualNumberChanged,
    ProtectionMeasureEnded,
    ProtectionMeasureStarted,
    ResidentBorn,
    ResidentDied,
    ResidentEnteredExOfficio,
    ResidentMovedIn,
    ResidentMovedOut,
    ResidentMovedWithin,
    ResidentRecordCorrected,
    ResidentRemovedExOfficio,
)
from machi.registry.models import (
    BIRTH_DATE_PRECISIONS,
    PROTECTION_END_REASONS,
    Address,
    CertificateIssuance,
    Household,
    PendingApproval,
    ProtectionMeasure,
    RecordNote,
    Resident,
    ResidentVersion,
    TownArea,
)
from machi.registry.rules import (
    ApprovedUse,
    BrowsingBasis,
    BrowsingScope,
    ChangeReason,
    ForeignResidentClass,
    HouseholdMember,
    Identification,
    LegalBasis,
    NoticeKind,
    ProtectedUse,
    Relationship,
    RequesterType,
)
from machi.synth.rules import individual_number_for

__all__ = [
    "Birth",
    "BrowsingRequest",
    "BulkExportRequest",
    "CardBasedMoveIn",
    "Death",
    "Decision",
    "DisclosureRequest",
    "ExOfficioCorrection",
    "ExOfficioDeletion",
    "ExOfficioEntry",
    "ExOfficioRequest",
    "ForeignResidentStatusChange",
    "HouseholdHeadChange",
    "HouseholdMerge",
    "HouseholdSplit",
    "ImportReport",
    "IndividualNumberChange",
    "MoveIn",
    "MoveOutConfirmation",
    "MoveWithin",
    "NewPerson",
    "PlannedMoveOut",
    "ProtectionMeasureEnd",
    "ProtectionMeasureRequest",
    "ProtectionRegistered",
    "Recorded",
    "TownImport",
    "approve_ex_officio",
    "approve_request",
    "birth",
    "card_based_move_in",
    "change_foreign_resident_status",
    "change_individual_number",
    "confirm_move_out",
    "death",
    "end_protection_measure",
    "household_head_change",
    "household_merge",
    "household_split",
    "import_town",
    "move_in",
    "move_within",
    "planned_move_out",
    "register_protection_measure",
    "reject_ex_officio",
    "reject_request",
    "request_browsing",
    "request_bulk_export",
    "request_disclosure",
    "request_ex_officio",
]

# Kept on the new version (as a memo, never printed) when a 届出 came after its period.
LATE_NOTICE_MEMO = "届出期間経過（届出日が法定の届出期間の末日より後です）"

_HEAD = Relationship.HEAD.value

# ---------------------------------------------------------------------------------------
# Commands (built at the edge: api.py, views.py, cli.py)
# ---------------------------------------------------------------------------------------


class _Redacted:
    """Commands carry names, addresses and numbers; a repr ends up in tracebacks and log
    lines, so it names the fields only."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f.name for f in fields(self))})"  # type: ignore[arg-type]


@dataclass(frozen=True, repr=False)
class NewPerson(_Redacted):
    """One person entered by 転入, 出生 or 職権記載, with the items of 法第7条 / 第30条の45.

    ``relationship`` is the 続柄 code relative to the household's 世帯主 (``"head"`` for the
    世帯主 himself; ``rules.parse_relationship`` reads printed labels). ``resident_id``
    names a 除票 of the same person that staff found: the record and its 宛名番号 are reused
    (REG-CTRL-26); a ``resident_record_code`` already held by a 除票 does the same."""

    name: str
    name_kana: str
    birth_date: date
    sex: int
    relationship: str
    registered_domicile: str | None = None
    family_register_head: str | None = None
    former_surname: str | None = None
    former_surname_kana: str | None = None
    birth_date_precision: str = "day"
    resident_record_code: str | None = None
    adult_guardianship: bool = False
    foreign_resident: bool = False
    nationality: str | None = None
    foreign_resident_class: str | None = None
    residence_status: str | None = None
    residence_period: str | None = None
    residence_expires_on: date | None = None
    residence_card_no: str | None = None
    # 外国人住民となった年月日; the 異動日 when not given.
    became_foreign_resident_on: date | None = None
    alias_name: str | None = None
    alias_name_kana: str | None = None
    alphabet_name: str | None = None
    resident_id: uuid.UUID | None = None


@dataclass(frozen=True, repr=False)
class MoveIn(_Redacted):
    """転入届 (法第22条) for one or more persons moving in together; 国外からの転入 with
    ``from_abroad`` (法第30条の46 for a 外国人住民). ``household_id`` None forms a new
    household (one of the persons is its 世帯主); otherwise they join that household, whose
    address must be ``address_id`` / ``building``. ``move_out_certificate`` says whether the
    paper 転出証明書 was collected (REG-CTRL-08; not asked from abroad)."""

    persons: tuple[NewPerson, ...]
    address_id: int
    building: str | None
    effective_on: date  # 転入をした年月日
    notified_on: date
    moved_in_from: str  # 転入前住所 (a country or 「国外」 from abroad)
    moved_in_from_local_government_code: str | None = None
    moved_in_from_postal_code: str | None = None
    from_abroad: bool = False
    household_id: uuid.UUID | None = None
    # Must be confirmed by whoever enters the 転入: a missing paper is not assumed.
    move_out_certificate: bool = False
    # Who applied and which identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, repr=False)
class CardBasedMoveIn(_Redacted):
    """転入届の特例 (法第24条の2): a move with the 個人番号カード, using the 転出証明書情報 the
    former municipality sent through 住基ネット instead of a paper certificate. The 転出予定日
    from that information decides whether the 特例 is still open (OQ-08)."""

    move_in: MoveIn
    planned_move_out_on: date


@dataclass(frozen=True, repr=False)
class PlannedMoveOut(_Redacted):
    """転出届 (法第24条): the residents leave on ``planned_on`` (today or later, or up to 14
    days earlier) for ``destination``. The 住民票 is removed from that date; the removed row
    keeps every item a 転出証明書 (住基令第23条) prints plus the planned destination."""

    resident_ids: tuple[uuid.UUID, ...]
    planned_on: date
    notified_on: date
    destination: str
    destination_local_government_code: str | None = None
    destination_postal_code: str | None = None
    abroad: bool = False
    card_based: bool = False  # 特例転出: the 転出証明書情報 goes through 住基ネット
    expected_versions: Mapping[uuid.UUID, int] | None = None
    # Who notified and the identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class MoveOutConfirmation(_Redacted):
    """転入通知受理 (法第9条第1項): the new municipality's notice fixes the 転出 on the 除票
    (転出確定; the planned items stay, 標準仕様 j680). ``received_on`` is the 通知日."""

    resident_id: uuid.UUID
    moved_out_on: date
    destination: str
    received_on: date
    destination_local_government_code: str | None = None
    destination_postal_code: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, repr=False)
class MoveWithin(_Redacted):
    """転居届 (法第23条). With ``new_relationships`` None the movers are their whole
    household and it moves with them; otherwise the movers leave it and form a new household
    (``join_household_id`` None; one of them 世帯主) or join ``join_household_id`` at the new
    address, each with the 続柄 given."""

    resident_ids: tuple[uuid.UUID, ...]
    address_id: int
    building: str | None
    effective_on: date
    notified_on: date
    new_relationships: Mapping[uuid.UUID, str] | None = None
    join_household_id: uuid.UUID | None = None
    expected_versions: Mapping[uuid.UUID, int] | None = None
    # Who notified and the identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class Birth(_Redacted):
    """出生, entered ex officio on the 戸籍 notice (法第8条, 第9条第2項) into an existing
    household; ``notified_on`` is the 通知日 (or the 出生届 date)."""

    household_id: uuid.UUID
    person: NewPerson
    notified_on: date | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, repr=False)
class Death(_Redacted):
    """死亡, entered ex officio on the 戸籍 notice: the 住民票 becomes a 除票 (150 years)."""

    resident_id: uuid.UUID
    died_on: date
    notified_on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True, repr=False)
class HouseholdSplit(_Redacted):
    """世帯分離 (法第25条): ``leaving`` members form a new household at the same address,
    each with its 続柄 there; ``staying`` gives new 続柄 of those who stay (needed when the
    世帯主 leaves)."""

    household_id: uuid.UUID
    leaving: Mapping[uuid.UUID, str]
    effective_on: date
    notified_on: date
    staying: Mapping[uuid.UUID, str] = field(default_factory=dict)
    expected_household_version: int | None = None
    # Who notified and the identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class HouseholdMerge(_Redacted):
    """世帯合併 (法第25条): every member of ``from_household_id`` joins ``into_household_id``
    at the same address with the 続柄 given (relative to its 世帯主); the first is dissolved."""

    from_household_id: uuid.UUID
    into_household_id: uuid.UUID
    relationships: Mapping[uuid.UUID, str]
    effective_on: date
    notified_on: date
    expected_from_version: int | None = None
    expected_into_version: int | None = None
    # Who notified and the identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class HouseholdHeadChange(_Redacted):
    """世帯主変更 (法第25条): ``new_head_id`` becomes 世帯主; ``relationships`` gives the new
    続柄 of every member whose 続柄 changes with it (at least the former 世帯主)."""

    household_id: uuid.UUID
    new_head_id: uuid.UUID
    relationships: Mapping[uuid.UUID, str]
    effective_on: date
    notified_on: date
    expected_household_version: int | None = None
    # Who notified and the identity documents the counter checked (REG-CTRL-01).
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class ForeignResidentStatusChange(_Redacted):
    """A 外国人住民's 法第30条の45 items as the 出入国在留管理庁 notified them (法第30条の50:
    在留資格・在留期間の変更, 在留カードの再交付, 国籍・地域の変更), entered ex officio as a
    職権修正 with the 通知日. All six items are given as they are after the change."""

    resident_id: uuid.UUID
    effective_on: date
    nationality: str
    foreign_resident_class: str
    residence_status: str | None
    residence_period: str | None
    residence_expires_on: date | None
    residence_card_no: str | None
    notified_on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True, repr=False)
class IndividualNumberChange(_Redacted):
    """個人番号の指定・変更 (番号法 第7条): the first number after 出生 / 国外転入 (⑯) or a
    new one on the resident's 請求 (``claimed_on``). The number goes to the vault only."""

    resident_id: uuid.UUID
    individual_number: str
    effective_on: date
    claimed_on: date | None = None
    expected_version: int | None = None
    # The 個人番号カード or 通知カード and identity documents shown (REG-CTRL-02).
    identification: Identification | None = None
    # The number being replaced, as presented (REG-CTRL-25); None for a first assignment.
    previous_number: str | None = None
    # The number printed on the 転出証明書 when a 転入 brings the number over (REG-CTRL-07).
    certificate_number: str | None = None


@dataclass(frozen=True, repr=False)
class ExOfficioEntry(_Redacted):
    """職権記載 (居住の実態, 帰化, 国籍喪失, 職権回復 …): ``change_reason`` is an entry made ex
    officio other than 出生. Joins ``household_id`` or forms a new household."""

    person: NewPerson
    address_id: int
    building: str | None
    effective_on: date
    change_reason: ChangeReason = ChangeReason.EX_OFFICIO_ENTRY
    household_id: uuid.UUID | None = None
    notified_on: date | None = None
    notice_kind: NoticeKind | None = None


@dataclass(frozen=True, repr=False)
class ExOfficioCorrection(_Redacted):
    """職権修正 / 誤記修正 / 軽微な修正 of items that were wrong (REG-CTRL-16). ``corrections``
    maps item names to their right values; from ``applies_from`` on (None: the whole
    record) every version is superseded by a corrected copy."""

    resident_id: uuid.UUID
    corrections: Mapping[str, Any]
    applies_from: date | None = None
    change_reason: ChangeReason = ChangeReason.EX_OFFICIO_CORRECTION
    expected_version: int | None = None


@dataclass(frozen=True, repr=False)
class ExOfficioDeletion(_Redacted):
    """職権消除 (居住の実態なし, 失踪宣告, 帰化・国籍喪失による切替 …)."""

    resident_id: uuid.UUID
    effective_on: date
    change_reason: ChangeReason = ChangeReason.EX_OFFICIO_DELETION
    notified_on: date | None = None
    notice_kind: NoticeKind | None = None
    expected_version: int | None = None


ExOfficioRequest = ExOfficioEntry | ExOfficioCorrection | ExOfficioDeletion


@dataclass(frozen=True)
class Decision:
    """決裁 or 破棄 of the draft ``approval_id``; ``expected_version`` is the draft's version
    the approver looked at. ``verified`` is the approver's 照合済: the draft's values were
    compared with the 届出書 or the documents (REG-CTRL-13); a 職権 draft is not approved
    without it."""

    approval_id: int
    expected_version: int | None = None
    verified: bool = False


@dataclass(frozen=True, repr=False)
class ProtectionMeasureRequest(_Redacted):
    """支援措置 (OQ-02): the 申出者 and those protected with them; the 加害者 only as
    宛名番号. ``valid_until`` defaults to one year (rules.protection_period_end)."""

    applicant_id: uuid.UUID
    requested_on: date
    valid_from: date
    accompanying_ids: tuple[uuid.UUID, ...] = ()
    offender_addressee_nos: tuple[int, ...] = ()
    scope: tuple[str, ...] = tuple(u.value for u in ProtectedUse)
    valid_until: date | None = None
    provisional: bool = False


@dataclass(frozen=True, repr=False)
class ProtectionMeasureEnd(_Redacted):
    measure_id: uuid.UUID
    ended_on: date  # the first day without protection
    end_reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class TownImport:
    """Import the synthetic town of schema ``synth`` into an empty registry. Numbers are
    sealed into the vault ``batch`` persons at a time."""

    batch: int = 10_000


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What a 異動 wrote: the residents with a new version, the households involved, and
    whether the notice came after its period."""

    resident_ids: tuple[uuid.UUID, ...]
    household_ids: tuple[uuid.UUID, ...]
    late_notice: bool = False


@dataclass(frozen=True)
class ProtectionRegistered:
    case_id: uuid.UUID
    measure_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class ImportReport:
    town_areas: int
    addresses: int
    households: int
    residents: int
    current_residents: int
    removed_records: int
    versions: int
    individual_numbers: int


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


def _error(code: RegistryError, field: str | None = None) -> DomainError:
    return DomainError(code, MESSAGES[code], field=field)


def _invalid(field: str | None, message: str) -> DomainError:
    """For refusals errors.py has no code for yet (listed in the hand-over report); the
    message says what is wrong without any personal value."""
    return DomainError(CoreError.INVALID_INPUT, message, field=field)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


@contextmanager
def _translated() -> Iterator[None]:
    """Database refusals as domain errors. A lost race (unique or exclusion violation,
    deadlock, stale version) is a conflict; any other constraint means input the rules let
    through, reported by constraint name only: the driver's text quotes the row's values."""
    try:
        yield
    except StaleDataError:
        raise ConflictError() from None
    except IntegrityError as exc:
        if _sqlstate(exc) in ("23505", "23P01"):
            raise ConflictError() from None
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        raise _invalid(
            constraint, "登録できない値の組合せです。入力内容を確認してください。"
        ) from None
    except DBAPIError as exc:
        if _sqlstate(exc) in ("40P01", "40001"):
            raise ConflictError() from None
        raise


def _staff_id(uow: UnitOfWork, actor: Actor, permission: Permission, action: str) -> uuid.UUID:
    """The staff user who records the change (``recorded_by``, four-eyes). An actor without
    a user (an operator at the shell, a system job) cannot: refused and audited alone, as
    the action's own transaction has not started."""
    if actor.user_id is None:
        audit.record_alone(
            uow,
            actor,
            action=action,
            outcome="denied",
            detail={"permission": str(permission), "reason": "no_staff_user"},
        )
        raise PermissionDenied(permission)
    return actor.user_id


# ---------------------------------------------------------------------------------------
# Loading and claiming
# ---------------------------------------------------------------------------------------

# Item columns of a version: everything that describes the person, not the change. The
# search keys follow the names (validators on the model), ``removed`` is set explicitly.
_KEY_COLUMNS = frozenset({"name_key", "name_kana_key", "alias_name_key", "alias_name_kana_key"})
_ITEM_COLUMNS: tuple[str, ...] = tuple(
    c.name
    for c in ResidentVersion.__table__.columns
    if c.name not in rules.BOOKKEEPING_FIELDS and c.name not in _KEY_COLUMNS | {"removed"}
)
_COLUMN_TYPES = {c.name: c.type for c in ResidentVersion.__table__.columns}

_RESIDENT = cast(Table, Resident.__table__)
_HOUSEHOLD = cast(Table, Household.__table__)
_ADDRESS = cast(Table, Address.__table__)
_TOWN_AREA = cast(Table, TownArea.__table__)


class _ResidentRow(NamedTuple):
    id: uuid.UUID
    status: str
    addressee_no: int
    resident_record_code: str | None
    version: int


class _HouseholdRow(NamedTuple):
    id: uuid.UUID
    formed_on: date
    dissolved_on: date | None
    version: int


# A claim bumps the version of every row a command changes, one UPDATE per table. Its init
# plan locks the rows in id order (ORDER BY … FOR UPDATE) and runs to completion before the
# first row is updated, so two commands over the same rows wait for each other instead of
# deadlocking; claiming both tables, the residents' init plan waits for the households'
# UPDATE (``after_h``), so households are locked first. The subquery reads the version with
# the statement's snapshot, before any wait for a lock: a row that a transaction committed
# meanwhile no longer has that version once it is locked (READ COMMITTED re-checks the
# locked row against the same snapshot), so it is left out of RETURNING and the claim is a
# conflict. A version given (on the caller's screen, or read earlier with the rows, see
# ``_load``) must be that version too; None takes whatever the snapshot had.
def _claim_sql(table: Table, ids: str, returning: str, *, after_h: bool = False) -> str:
    name = f"{table.schema}.{table.name}"  # from the model, never from input
    wait = " AND (SELECT count(*) FROM h) >= 0" if after_h else ""
    return (
        f"UPDATE {name} AS t SET version = t.version + 1"  # noqa: S608
        f" FROM unnest(CAST(:{ids} AS uuid[]), CAST(:{ids}_versions AS integer[]))"
        " AS w(id, version)"
        f" WHERE t.id = w.id AND t.version = (SELECT c.version FROM {name} AS c"
        " WHERE c.id = t.id) AND (w.version IS NULL OR w.version = t.version)"
        f" AND t.id = ANY(ARRAY(SELECT l.id FROM {name} AS l"
        f" WHERE l.id = ANY(CAST(:{ids} AS uuid[])){wait} ORDER BY l.id FOR UPDATE))"
        f" RETURNING {returning}"
    )


_HOUSEHOLD_CLAIMED = "t.id, t.formed_on, t.dissolved_on, t.version"
_RESIDENT_CLAIMED = "t.id, t.status, t.addressee_no, t.resident_record_code, t.version"
_CLAIM_HOUSEHOLDS = text(_claim_sql(_HOUSEHOLD, "households", _HOUSEHOLD_CLAIMED))
_CLAIM_RESIDENTS = text(_claim_sql(_RESIDENT, "residents", _RESIDENT_CLAIMED))
_CLAIM_BOTH = text(
    f"WITH h AS ({_claim_sql(_HOUSEHOLD, 'households', _HOUSEHOLD_CLAIMED)}),"  # noqa: S608
    f" r AS ({_claim_sql(_RESIDENT, 'residents', _RESIDENT_CLAIMED, after_h=True)})"
    " SELECT true AS household, id, version, formed_on, dissolved_on,"
    " CAST(NULL AS text) AS status, CAST(NULL AS bigint) AS addressee_no,"
    " CAST(NULL AS text) AS resident_record_code FROM h"
    " UNION ALL SELECT false, id, version, NULL, NULL, status, addressee_no,"
    " resident_record_code FROM r"
)


class _Wanted(NamedTuple):
    """The rows of one table to claim, in lock order, each at the version it must have."""

    order: list[uuid.UUID]
    versions: list[int | None]
    stale: frozenset[uuid.UUID]  # the caller's version is not the one read: a conflict


def _wanted(
    ids: Iterable[uuid.UUID],
    expected: Mapping[uuid.UUID, int] | None = None,
    seen: Mapping[uuid.UUID, int] | None = None,
) -> _Wanted:
    expected, seen = expected or {}, seen or {}
    order = sorted(set(ids), key=str)
    return _Wanted(
        order,
        [seen.get(i, expected.get(i)) for i in order],
        frozenset(i for i in order if i in seen and expected.get(i, seen[i]) != seen[i]),
    )


_NONE = _wanted(())


def _bump(
    uow: UnitOfWork, households: _Wanted, residents: _Wanted
) -> tuple[dict[uuid.UUID, _HouseholdRow], dict[uuid.UUID, _ResidentRow]]:
    """The rows claimed, in one statement (or none when nothing is wanted)."""
    params = {
        "households": households.order,
        "households_versions": households.versions,
        "residents": residents.order,
        "residents_versions": residents.versions,
    }
    hh: dict[uuid.UUID, _HouseholdRow] = {}
    rr: dict[uuid.UUID, _ResidentRow] = {}
    if households.order and residents.order:
        for row in uow.session.execute(_CLAIM_BOTH, params):
            if row.household:
                hh[row.id] = _HouseholdRow(row.id, row.formed_on, row.dissolved_on, row.version)
            else:
                rr[row.id] = _ResidentRow(
                    row.id, row.status, row.addressee_no, row.resident_record_code, row.version
                )
    elif households.order:
        hh = {r.id: _HouseholdRow._make(r) for r in uow.session.execute(_CLAIM_HOUSEHOLDS, params)}
    elif residents.order:
        rr = {r.id: _ResidentRow._make(r) for r in uow.session.execute(_CLAIM_RESIDENTS, params)}
    for i in households.stale:
        hh.pop(i, None)
    for i in residents.stale:
        rr.pop(i, None)
    return hh, rr


def _unclaimed(uow: UnitOfWork, table: Table, row_id: uuid.UUID) -> DomainError:
    """Why a claim matched no row: there is none (404), or it was changed (409)."""
    found = uow.session.scalar(select(table.c.id).where(table.c.id == row_id))
    return NotFoundError() if found is None else ConflictError()


def _households_claimed(
    uow: UnitOfWork, wanted: _Wanted, rows: Mapping[uuid.UUID, _HouseholdRow]
) -> dict[uuid.UUID, _HouseholdRow]:
    for h in wanted.order:
        if h not in rows:
            raise _unclaimed(uow, _HOUSEHOLD, h)
    return {h: rows[h] for h in wanted.order}


def _claim_resident(
    uow: UnitOfWork, resident_id: uuid.UUID, expected: int | None = None
) -> _ResidentRow:
    """Lock the resident for this change, optimistically: the version bump succeeds only if
    nobody changed the record since it was read (or since the caller displayed
    ``expected``)."""
    _, rows = _bump(uow, _NONE, _wanted([resident_id], _given(resident_id, expected)))
    if resident_id not in rows:
        raise _unclaimed(uow, _RESIDENT, resident_id)
    return rows[resident_id]


def _claim_household(
    uow: UnitOfWork, household_id: uuid.UUID, expected: int | None = None
) -> _HouseholdRow:
    wanted = _wanted([household_id], _given(household_id, expected))
    hh, _ = _bump(uow, wanted, _NONE)
    return _households_claimed(uow, wanted, hh)[household_id]


def _given(row_id: uuid.UUID, expected: int | None) -> dict[uuid.UUID, int]:
    return {} if expected is None else {row_id: expected}


def _set_status(uow: UnitOfWork, resident_id: uuid.UUID, status: str) -> None:
    uow.session.execute(
        update(_RESIDENT).where(_RESIDENT.c.id == resident_id).values(status=status)
    )


# Statements built once (compiled once, and the same SQL text for the server's cache).
_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
_IS_OPEN = (ResidentVersion.valid_to.is_(None), ResidentVersion.superseded_at.is_(None))
_OPEN_VERSION = select(ResidentVersion).where(
    ResidentVersion.resident_id == bindparam("resident_id"), *_IS_OPEN
)
_OPEN_VERSIONS = select(ResidentVersion).where(ResidentVersion.resident_id == any_(_IDS), *_IS_OPEN)
_HOUSEHOLDS_OF = (
    select(ResidentVersion.household_id)
    .where(ResidentVersion.resident_id == any_(_IDS), *_IS_OPEN)
    .distinct()
)
_mover = aliased(ResidentVersion)
# The residents' open rows and the live members of their households, with the versions of
# the resident and the household read in the same snapshot (``_load``). Subqueries rather
# than joins: the app plans every statement afresh (core.db), and a join of these tables
# costs ~0.3 ms more to plan than the query takes to run.
_LOAD = (
    select(
        ResidentVersion,
        select(_RESIDENT.c.version)
        .where(_RESIDENT.c.id == ResidentVersion.resident_id)
        .scalar_subquery(),
        select(_HOUSEHOLD.c.version)
        .where(_HOUSEHOLD.c.id == ResidentVersion.household_id)
        .scalar_subquery(),
        # What _check_address reads, in the same round trip.
        select(array([_ADDRESS.c.abolished_on, _TOWN_AREA.c.abolished_on]))
        .select_from(_ADDRESS.join(_TOWN_AREA, _TOWN_AREA.c.id == _ADDRESS.c.town_area_id))
        .where(_ADDRESS.c.id == bindparam("address_id"))
        .scalar_subquery(),
    )
    .where(
        *_IS_OPEN,
        ResidentVersion.household_id
        == any_(
            func.array(
                select(_mover.household_id)
                .where(
                    _mover.resident_id == any_(_IDS),
                    _mover.valid_to.is_(None),
                    _mover.superseded_at.is_(None),
                )
                .scalar_subquery()
            )
        ),
        or_(ResidentVersion.removed.is_(False), ResidentVersion.resident_id == any_(_IDS)),
    )
    .order_by(ResidentVersion.display_order, ResidentVersion.history_no)
)
_TOP_HISTORY_NO = select(func.max(ResidentVersion.history_no)).where(
    ResidentVersion.resident_id == bindparam("resident_id")
)


def _open_version(uow: UnitOfWork, resident_id: uuid.UUID) -> ResidentVersion:
    v = uow.session.scalar(_OPEN_VERSION, {"resident_id": resident_id})
    if v is None:  # every resident has exactly one open row (uq_resident_version_open)
        raise NotFoundError()
    return v


def _current(uow: UnitOfWork, resident_id: uuid.UUID, expected: int | None) -> ResidentVersion:
    """Claim a resident who has a live 住民票 and return its open version."""
    wanted = _wanted([resident_id], _given(resident_id, expected))
    _, rows = _bump(uow, _NONE, wanted)
    return _residents_claimed(uow, wanted, rows, {})[resident_id]


def _households_of(uow: UnitOfWork, resident_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Households of the residents' open rows, read without a lock: only to know which
    households to claim before the residents (see ``_claim``)."""
    return list(uow.session.scalars(_HOUSEHOLDS_OF, {"ids": list(resident_ids)}))


class _Loaded(NamedTuple):
    """Rows read without a lock, each with the version it was read at (``_load``)."""

    opens: dict[uuid.UUID, tuple[ResidentVersion, int]]  # resident → open row, version
    households: dict[uuid.UUID, int]  # household of an open row → version
    members: dict[uuid.UUID, list[ResidentVersion]]  # household → live members, 表示順位


def _load(uow: UnitOfWork, resident_ids: Iterable[uuid.UUID], address_id: int, on: date) -> _Loaded:
    """The residents' open rows and their households' live members, in one statement, with
    the versions of the residents and households as read in that snapshot. Claimed with
    those versions (``_claim(loaded=...)``), they are known to be current without being
    read again: every command that changes a resident's history claims the resident, and
    every command that changes who is in a household claims the household. The address
    the residents move to is checked first (``_check_address``), read in the same trip."""
    wanted = set(resident_ids)
    loaded = _Loaded({}, {}, {})
    rows = uow.session.execute(_LOAD, {"ids": list(wanted), "address_id": address_id}).all()
    if rows:
        _check_abolished(rows[0][3], on)
    else:
        _check_address(uow, address_id, on)
    for v, resident_version, household_version, _ in rows:
        loaded.households[v.household_id] = household_version
        members = loaded.members.setdefault(v.household_id, [])
        if not v.removed:
            members.append(v)
        if v.resident_id in wanted:
            loaded.opens[v.resident_id] = (v, resident_version)
    return loaded


def _residents_claimed(
    uow: UnitOfWork,
    wanted: _Wanted,
    rows: Mapping[uuid.UUID, _ResidentRow],
    loaded: Mapping[uuid.UUID, tuple[ResidentVersion, int]],
) -> dict[uuid.UUID, ResidentVersion]:
    """The open versions of claimed residents who have a live 住民票, in id order: read
    after the claim, or read before it (``loaded``) and proven current by it."""
    opens = {r: v for r, (v, _) in loaded.items()}
    unread = [r for r in rows if r not in opens]
    if unread:
        opens.update(
            (v.resident_id, v) for v in uow.session.scalars(_OPEN_VERSIONS, {"ids": unread})
        )
    claimed: dict[uuid.UUID, ResidentVersion] = {}
    for r in wanted.order:
        if r not in rows:
            raise _unclaimed(uow, _RESIDENT, r)
        v = opens.get(r)
        if v is None:  # every resident has exactly one open row (uq_resident_version_open)
            raise NotFoundError()
        if rows[r].status != "current" or v.removed:
            raise _error(RegistryError.NOT_RESIDENT)
        claimed[r] = v
    return claimed


def _claim(
    uow: UnitOfWork,
    *,
    households: Iterable[uuid.UUID] = (),
    residents: Iterable[uuid.UUID] = (),
    expected_households: Mapping[uuid.UUID, int] | None = None,
    expected_residents: Mapping[uuid.UUID, int] | None = None,
    loaded: _Loaded | None = None,
) -> tuple[dict[uuid.UUID, _HouseholdRow], dict[uuid.UUID, ResidentVersion]]:
    """Claim households, then residents, each in id order (one statement): every command
    takes its locks in this one order, so two commands wait for each other instead of
    deadlocking. A resident who moved to another household meanwhile is a conflict. With
    ``loaded``, the rows read by ``_load`` are claimed at the versions they were read at."""
    opens = {} if loaded is None else loaded.opens
    h = _wanted(households, expected_households, None if loaded is None else loaded.households)
    r = _wanted(residents, expected_residents, {rid: seen for rid, (_, seen) in opens.items()})
    h_rows, r_rows = _bump(uow, h, r)
    hh = _households_claimed(uow, h, h_rows)
    claimed = _residents_claimed(uow, r, r_rows, opens)
    if hh and any(v.household_id not in hh for v in claimed.values()):
        raise ConflictError()
    return hh, claimed


def _next_history_no(uow: UnitOfWork, resident_id: uuid.UUID) -> int:
    top = uow.session.scalar(_TOP_HISTORY_NO, {"resident_id": resident_id})
    return (top or 0) + 1


def _died_on(uow: UnitOfWork, resident_id: uuid.UUID) -> date | None:
    return uow.session.scalar(
        select(ResidentVersion.valid_from).where(
            ResidentVersion.resident_id == resident_id,
            ResidentVersion.change_reason == ChangeReason.DEATH.value,
            ResidentVersion.superseded_at.is_(None),
        )
    )


_MEMBERS = (
    select(ResidentVersion)
    .where(
        ResidentVersion.household_id == bindparam("household_id"),
        *_IS_OPEN,
        ResidentVersion.removed.is_(False),
    )
    .order_by(ResidentVersion.display_order, ResidentVersion.history_no)
)
_ABOLISHED = (
    select(_ADDRESS.c.abolished_on, _TOWN_AREA.c.abolished_on)
    .join(_TOWN_AREA, _TOWN_AREA.c.id == _ADDRESS.c.town_area_id)
    .where(_ADDRESS.c.id == bindparam("address_id"))
)


def _members(uow: UnitOfWork, household_id: uuid.UUID) -> list[ResidentVersion]:
    """Live members: open, not removed rows in the household, in 表示順位."""
    return list(uow.session.scalars(_MEMBERS, {"household_id": household_id}))


def _check_address(uow: UnitOfWork, address_id: int, on: date) -> None:
    _check_abolished(uow.session.execute(_ABOLISHED, {"address_id": address_id}).one_or_none(), on)


def _check_abolished(abolished: Sequence[date | None] | None, on: date) -> None:
    """``abolished``: when the address and its 町字 were abolished; None: no such address."""
    if abolished is None:
        raise _invalid("address_id", "住所が住所辞書にありません。")
    if any(day is not None and day <= on for day in abolished):
        raise _invalid("address_id", "異動日にはこの住所は廃止されています。")


def _snapshot(v: ResidentVersion) -> dict[str, Any]:
    return {c: getattr(v, c) for c in _ITEM_COLUMNS}


def _issue_numbers(uow: UnitOfWork, column: Any, lock: str, count: int) -> list[int]:
    """宛名番号 / 世帯番号 for new rows: the serials after the highest number on record, each
    with its check digit (rules.addressee_no_from_serial; serials without one are
    skipped). The lock serialises issuers until commit, so two 転入 never draw the same."""
    if count == 0:
        return []
    s = uow.session
    s.execute(select(func.pg_advisory_xact_lock(func.hashtext(lock))))
    serial = (s.scalar(select(func.max(column))) or 0) // 10
    numbers: list[int] = []
    while len(numbers) < count:
        serial += 1
        if rules.is_issuable_serial(serial):
            numbers.append(rules.addressee_no_from_serial(serial))
    return numbers


def _new_household(uow: UnitOfWork, formed_on: date) -> uuid.UUID:
    (number,) = _issue_numbers(uow, Household.household_no, "registry.household_no", 1)
    household = Household(id=uuid.uuid4(), household_no=number, formed_on=formed_on)
    uow.session.add(household)
    return household.id


def _dissolve(uow: UnitOfWork, household: _HouseholdRow, on: date) -> None:
    if on < household.formed_on:
        raise _invalid("effective_on", "異動日が世帯の成立日より前になっています。")
    uow.session.execute(
        update(_HOUSEHOLD).where(_HOUSEHOLD.c.id == household.id).values(dissolved_on=on)
    )


# ---------------------------------------------------------------------------------------
# Checks that rules.py does not have (reported: candidates for rules.py)
# ---------------------------------------------------------------------------------------

_NATIONALITY = re.compile(r"[A-Z]{2}|XXA")
_POSTAL_CODE = re.compile(r"[0-9]{7}")
_FOREIGN_ONLY = (
    "alias_name_kana",
    "alphabet_name",
    "foreign_resident_class",
    "residence_status",
    "residence_period",
    "residence_expires_on",
    "residence_card_no",
    "became_foreign_resident_on",
)


def _check_after(previous: ResidentVersion, effective_on: date) -> None:
    """A change cannot start before the latest recorded one: history is appended, and a
    change that belongs earlier is a 職権修正 (which supersedes what follows)."""
    if effective_on < previous.valid_from:
        raise _invalid(
            "effective_on",
            "この異動日より後の異動が既に記録されています。職権修正として処理してください。",
        )


def _check_local_government_code(code: str | None, field: str) -> None:
    if code is not None and not is_valid_local_government_code(code):
        raise _invalid(field, "地方公共団体コードは検査数字を含む半角数字6桁です。")


def _check_postal_code(code: str | None, field: str) -> None:
    if code is not None and _POSTAL_CODE.fullmatch(code) is None:
        raise _invalid(field, "郵便番号は半角数字7桁です。")


def _check_place(
    place: str, code: str | None, postal: str | None, *, abroad: bool, prefix: str
) -> None:
    """A 転入前住所 / 転出先: text always; a municipality code only inside Japan."""
    if not place.strip():
        raise _invalid(prefix, "転入前住所・転出先を入力してください。")
    if abroad and code is not None:
        raise _invalid(
            f"{prefix}_local_government_code", "国外には地方公共団体コードはありません。"
        )
    _check_local_government_code(code, f"{prefix}_local_government_code")
    _check_postal_code(postal, f"{prefix}_postal_code")


def _check_nationality_items(items: Mapping[str, Any], effective_on: date) -> None:
    """法第30条の45 items of a record state, with the rules for both nationalities."""
    foreign = bool(items["foreign_resident"])
    rules.check_items_for_nationality(
        foreign_resident=foreign,
        registered_domicile=items["registered_domicile"],
        family_register_head=items["family_register_head"],
        former_surname=items["former_surname"],
        alias_name=items["alias_name"],
        nationality=items["nationality"],
    )
    if not foreign:
        for item in _FOREIGN_ONLY:
            if items[item] is not None:
                raise _error(RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT, item)
        return
    if items["former_surname_kana"] is not None:
        raise _error(RegistryError.JAPANESE_ITEM_ON_FOREIGN_RESIDENT, "former_surname_kana")
    if _NATIONALITY.fullmatch(items["nationality"]) is None:
        raise _invalid("nationality", "国籍・地域は ISO 3166 の英大文字2字 (無国籍は XXA) です。")
    try:
        klass: ForeignResidentClass | None = ForeignResidentClass(items["foreign_resident_class"])
    except ValueError:
        klass = None
    rules.check_foreign_resident_items(
        klass,
        residence_status=items["residence_status"],
        residence_period=items["residence_period"],
        residence_expires_on=items["residence_expires_on"],
        residence_card_no=items["residence_card_no"],
        effective_on=effective_on,
    )


def _check_person_items(items: Mapping[str, Any], effective_on: date, today: date) -> None:
    if not str(items["name"] or "").strip() or not str(items["name_kana"] or "").strip():
        raise _invalid("name", "氏名と氏名フリガナを入力してください。")
    if items["sex"] not in (1, 2):
        raise _invalid("sex", "性別は 1 (男) または 2 (女) です。")
    if items["birth_date_precision"] not in BIRTH_DATE_PRECISIONS:
        raise _invalid("birth_date_precision", "生年月日の精度の指定が正しくありません。")
    rules.check_birth_date(items["birth_date"], today)
    rules.check_relationship(items["relationship"])
    if items["resident_record_code"] is not None:
        rules.check_resident_record_code(items["resident_record_code"])
    _check_nationality_items(items, effective_on)


def _is_late(reason: ChangeReason, effective_on: date, notified_on: date | None) -> bool:
    return notified_on is not None and rules.is_late_notice(reason, effective_on, notified_on)


def _notice_kind(reason: ChangeReason, notified_on: date | None) -> NoticeKind | None:
    """What ``notified_on`` is for a change of this reason: 届出日 for a 届出, 請求日 for a
    請求/申出, 通知日 for an entry made ex officio on a notice."""
    if notified_on is None:
        return None
    if reason.origin is rules.Origin.NOTIFICATION:
        return NoticeKind.NOTIFICATION
    if reason.origin is rules.Origin.REQUEST:
        return NoticeKind.CLAIM
    return NoticeKind.NOTICE


# ---------------------------------------------------------------------------------------
# Writing history
# ---------------------------------------------------------------------------------------


@dataclass
class _Change:
    """One new version: ``previous`` (None for a first entry) is closed at ``effective_on``."""

    resident_id: uuid.UUID
    previous: ResidentVersion | None
    items: dict[str, Any]
    reason: ChangeReason
    effective_on: date
    notified_on: date | None
    notice_kind: NoticeKind | None
    removed: bool = False
    written: ResidentVersion | None = None  # set by _write


def _change(
    previous: ResidentVersion,
    reason: ChangeReason,
    effective_on: date,
    notified_on: date | None,
    *,
    removed: bool = False,
    notice_kind: NoticeKind | None = None,
    **changes: Any,
) -> _Change:
    _check_after(previous, effective_on)
    items = _snapshot(previous) | changes
    return _Change(
        previous.resident_id,
        previous,
        items,
        reason,
        effective_on,
        notified_on,
        notice_kind or _notice_kind(reason, notified_on),
        removed,
    )


# Closing previous rows: ``valid_to`` with ``closed_at``, together and once (migration
# 0007, docs/decisions/0009), for all of a command's rows in one statement that also reads
# the highest history_no of each resident written to (before the new rows are inserted).
_CLOSE = text(
    "WITH closed AS (UPDATE registry.resident_version AS v"
    " SET valid_to = c.valid_to, closed_at = :now"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:valid_to AS date[])) AS c(id, valid_to)"
    " WHERE v.id = c.id RETURNING v.id)"
    " SELECT r.id, (SELECT count(*) FROM closed) AS closed,"
    " (SELECT max(h.history_no) FROM registry.resident_version AS h"
    " WHERE h.resident_id = r.id) AS top"
    " FROM unnest(CAST(:residents AS uuid[])) AS r(id)"
)


_INSERT_COLUMNS = tuple(c.name for c in ResidentVersion.__table__.columns if c.name != "id")
_INSERT_DEFAULTS = {
    c.name: c.default.arg
    for c in ResidentVersion.__table__.columns
    if c.name != "id" and isinstance(c.default, ScalarElementColumnDefault)
}
_INSERT_VERSIONS = text(
    "INSERT INTO registry.resident_version ({0}) SELECT {0} FROM jsonb_populate_recordset("  # noqa: S608
    "CAST(NULL AS registry.resident_version), CAST(:rows AS jsonb))"
    " RETURNING id, resident_id, history_no".format(", ".join(_INSERT_COLUMNS))
)


def _json_value(value: object) -> str:
    """Dates, instants and ids as PostgreSQL reads them back from JSON (ISO 8601)."""
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _write(
    uow: UnitOfWork,
    changes: Sequence[_Change],
    *,
    recorded_by: uuid.UUID,
    approval_id: int | None = None,
    late_for: ChangeReason | None = None,
) -> list[ResidentVersion]:
    """Close every previous row first (one statement, which also reads each resident's
    highest 履歴番号), then insert the new rows: a 世帯主 handing over to another member on
    the same day would otherwise overlap in the database's eyes. ``late_for`` marks the
    rows of that reason (the notified change, not the 世帯主 taken over ex officio beside
    it) with the late-notice memo."""
    s = uow.session
    now = uow.clock.now()
    s.flush()  # what the command added (a new household) exists before rows refer to it
    if not changes:
        return []
    # The last change of a row closes it (as assigning the attributes twice would).
    closing = {c.previous.id: c for c in changes if c.previous is not None}
    result = s.execute(
        _CLOSE,
        {
            "ids": list(closing),
            "valid_to": [c.effective_on for c in closing.values()],
            "now": now,
            "residents": list(dict.fromkeys(c.resident_id for c in changes)),
        },
    ).all()
    if result[0].closed != len(closing):  # as a flush would: a row changed meanwhile
        raise StaleDataError("resident_version")
    for c in closing.values():
        assert c.previous is not None
        set_committed_value(c.previous, "valid_to", c.effective_on)
        # As recorded before now, it stays open (in_force).
        set_committed_value(c.previous, "closed_at", now)
    next_no = {r.id: (r.top or 0) + 1 for r in result}
    rows: list[ResidentVersion] = []
    for c in changes:
        rows.append(
            ResidentVersion(  # the model computes the search keys from the names
                resident_id=c.resident_id,
                history_no=next_no[c.resident_id],
                valid_from=c.effective_on,
                valid_to=None,
                closed_at=None,
                superseded_at=None,
                notified_on=c.notified_on,
                notice_kind=None if c.notice_kind is None else c.notice_kind.value,
                change_reason=c.reason.value,
                recorded_at=now,
                recorded_by=recorded_by,
                approval_id=approval_id,
                removed=c.removed,
                **c.items,
            )
        )
        next_no[c.resident_id] += 1
    # One short statement whatever the number of rows (the ORM's would be re-parsed on
    # every call); the rows then join the session as if loaded.
    values = []
    for r in rows:
        for k in _INSERT_COLUMNS:
            if k not in r.__dict__:  # what the ORM would have inserted: the default, or NULL
                setattr(r, k, _INSERT_DEFAULTS.get(k))
        values.append({k: r.__dict__[k] for k in _INSERT_COLUMNS})
    ids = {
        (row.resident_id, row.history_no): row.id
        for row in s.execute(_INSERT_VERSIONS, {"rows": json.dumps(values, default=_json_value)})
    }
    for c, r in zip(changes, rows, strict=True):
        r.id = ids[r.resident_id, r.history_no]
        make_transient_to_detached(r)
        s.add(r)
        c.written = r
    if late_for is not None:
        _late_memos(uow, [c for c in changes if c.reason is late_for], recorded_by)
    return rows


def _late_memos(uow: UnitOfWork, changes: Iterable[_Change], staff: uuid.UUID) -> None:
    """The late-notice flag on the versions written for ``changes`` (OQ-01)."""
    now = uow.clock.now()
    uow.session.add_all(
        RecordNote(
            resident_id=c.resident_id,
            version_id=c.written.id,
            kind="memo",
            body=LATE_NOTICE_MEMO,
            written_by=staff,
            written_at=now,
        )
        for c in changes
        if c.written is not None
    )
    uow.session.flush()


def _fields(changes: Iterable[_Change]) -> list[str]:
    names: set[str] = set()
    for c in changes:
        if c.previous is not None:
            names.update(rules.changed_fields(_snapshot(c.previous), c.items))
    return sorted(names)


# ---------------------------------------------------------------------------------------
# Households: who is left when someone goes
# ---------------------------------------------------------------------------------------


@dataclass
class _Leaving:
    changes: list[_Change]
    events: list[DomainEvent]


def _leave(
    uow: UnitOfWork, household: _HouseholdRow, leaving: set[uuid.UUID], on: date
) -> _Leaving:
    """What a (claimed) household becomes when ``leaving`` members go on ``on`` (転出,
    死亡, 転居 to another household, 職権消除): with no one left it is dissolved; when the
    世帯主 goes and exactly one member remains, that member becomes 世帯主 ex officio; with
    two or more the household waits for a 世帯主変更届 (rules.successor_when_head_leaves)."""
    household_id = household.id
    members = _members(uow, household_id)
    remaining = [m for m in members if m.resident_id not in leaving]
    if not remaining:
        _dissolve(uow, household, on)
        return _Leaving([], [])
    head_leaves = any(m.relationship == _HEAD for m in members if m.resident_id in leaving)
    successor = (
        rules.successor_when_head_leaves([m.resident_id for m in remaining])
        if head_leaves
        else None
    )
    if successor is None:
        return _Leaving([], [])
    # Re-read after the claim: the row loaded with the members may have been closed since.
    heir = _current(uow, successor, None)
    change = _change(
        heir,
        ChangeReason.HOUSEHOLD_HEAD_CHANGE,
        on,
        None,
        relationship=_HEAD,
    )
    event = HouseholdChanged(
        resident_id=heir.resident_id,
        household_id=household_id,
        previous_household_id=household_id,
        effective_on=on,
        change_reason=ChangeReason.HOUSEHOLD_HEAD_CHANGE.value,
        became_head=True,
    )
    return _Leaving([change], [event])


# ---------------------------------------------------------------------------------------
# Entering people (転入, 特例転入, 出生, 職権記載)
# ---------------------------------------------------------------------------------------


@dataclass
class _Entered:
    household_id: uuid.UUID
    resident_ids: list[uuid.UUID]
    re_entries: set[uuid.UUID]
    new_household: bool
    changes: list[_Change]


def _person_items(p: NewPerson, effective_on: date) -> dict[str, Any]:
    items: dict[str, Any] = {
        "resident_record_code": p.resident_record_code,
        "name": p.name,
        "name_kana": p.name_kana,
        "name_kana_confirmed": False,
        "former_surname": p.former_surname,
        "former_surname_kana": p.former_surname_kana,
        "alias_name": p.alias_name,
        "alias_name_kana": p.alias_name_kana,
        "alphabet_name": p.alphabet_name,
        "birth_date": p.birth_date,
        "birth_date_precision": p.birth_date_precision,
        "sex": p.sex,
        "adult_guardianship": p.adult_guardianship,
        "relationship": p.relationship,
        "registered_domicile": p.registered_domicile,
        "family_register_head": p.family_register_head,
        "foreign_resident": p.foreign_resident,
        "nationality": p.nationality,
        "foreign_resident_class": p.foreign_resident_class,
        "residence_status": p.residence_status,
        "residence_period": p.residence_period,
        "residence_expires_on": p.residence_expires_on,
        "residence_card_no": p.residence_card_no,
        "became_foreign_resident_on": (
            (p.became_foreign_resident_on or effective_on) if p.foreign_resident else None
        ),
    }
    return items


def _blank_place_items() -> dict[str, Any]:
    return {
        "moved_in_on": None,
        "moved_in_from": None,
        "moved_in_from_local_government_code": None,
        "moved_in_from_postal_code": None,
        "planned_move_out_on": None,
        "planned_move_out_to": None,
        "planned_move_out_to_local_government_code": None,
        "planned_move_out_to_postal_code": None,
        "moved_out_on": None,
        "moved_out_to": None,
        "moved_out_to_local_government_code": None,
        "moved_out_to_postal_code": None,
        "move_in_notice_received_on": None,
    }


def _existing_record(uow: UnitOfWork, p: NewPerson) -> _ResidentRow | None:
    """The record this person already has here, if any: the 除票 staff chose, or the one
    holding the 住民票コード (REG-CTRL-21: records are matched by it)."""
    if p.resident_id is not None:
        row = _claim_resident(uow, p.resident_id)
        if p.resident_record_code is not None and row.resident_record_code not in (
            None,
            p.resident_record_code,
        ):
            raise _invalid(
                "resident_record_code", "住民票コードが選択した除票の住民票コードと一致しません。"
            )
        return row
    if p.resident_record_code is None:
        return None
    holder = uow.session.scalar(
        select(Resident.id).where(Resident.resident_record_code == p.resident_record_code)
    )
    return None if holder is None else _claim_resident(uow, holder)


def _card_in_use(uow: UnitOfWork, card_no: str | None, other_than: uuid.UUID | None) -> bool:
    if card_no is None:
        return False
    holder = uow.session.scalar(
        select(ResidentVersion.resident_id).where(
            ResidentVersion.residence_card_no == card_no,
            ResidentVersion.valid_to.is_(None),
            ResidentVersion.superseded_at.is_(None),
            ResidentVersion.removed.is_(False),
        )
    )
    return holder is not None and holder != other_than


def _enter(
    uow: UnitOfWork,
    persons: Sequence[NewPerson],
    *,
    reason: ChangeReason,
    effective_on: date,
    notified_on: date | None,
    notice_kind: NoticeKind | None,
    address_id: int | None,
    building: str | None,
    household_id: uuid.UUID | None,
    expected_household_version: int | None,
    place: Mapping[str, Any],
    became_resident_on: date,
) -> _Entered:
    """Validate and plan the entry of ``persons`` (nothing is written here but the claims
    and the new identities). ``address_id`` None takes the household's address (出生)."""
    today = uow.clock.business_date()
    if not persons:
        raise _invalid("persons", "記載する方を1人以上指定してください。")
    # The person first, so a 出生 dated tomorrow is told about its birth date.
    items_list = []
    for p in persons:
        items = _person_items(p, effective_on)
        _check_person_items(items, effective_on, today)
        items_list.append(items)
    rules.check_change_dates(reason, effective_on, notified_on, today)
    for p in persons:
        rules.check_within_lifetime(reason, effective_on, p.birth_date, None)

    # The household first: joining means its address and members decide a lot.
    if household_id is not None:
        household = _claim_household(uow, household_id, expected_household_version)
        if household.dissolved_on is not None:
            raise _invalid("household_id", "この世帯は既に消滅しています。")
        members = _members(uow, household_id)
        if not members:
            raise _invalid("household_id", "この世帯には現在住民がいません。")
        head = next((m for m in members if m.relationship == _HEAD), members[0])
        if address_id is None:
            address_id, building = head.address_id, head.building
        elif (address_id, building) != (head.address_id, head.building):
            raise _invalid("address_id", "加わる世帯の住所 (方書を含む) と異なります。")
        current = [HouseholdMember(m.resident_id, m.relationship) for m in members]
        vacant = not any(m.relationship == _HEAD for m in members)
        next_order = max(m.display_order for m in members) + 1
    else:
        if address_id is None:
            raise _invalid("address_id", "住所を指定してください。")
        current, vacant, next_order = [], False, 1
    _check_address(uow, address_id, effective_on)

    # Who is entering: a new record, a re-entry of a 除票, or someone already here.
    found: list[_ResidentRow | None] = []
    for p in persons:
        row = _existing_record(uow, p)
        already = row is not None and row.status == "current"
        rules.check_move_in(reason, already_resident=already)
        if already:  # entries other than 転入 (出生, 職権記載) of a live record
            raise _error(RegistryError.ALREADY_RESIDENT)
        if _card_in_use(uow, p.residence_card_no, None if row is None else row.id):
            raise _error(RegistryError.ALREADY_RESIDENT, "residence_card_no")
        found.append(row)

    placeholders = [uuid.uuid4() for _ in persons]
    rules.check_household(
        [
            *current,
            *(
                HouseholdMember(pid, p.relationship)
                for pid, p in zip(placeholders, persons, strict=True)
            ),
        ],
        allow_vacant_head=vacant and not any(p.relationship == _HEAD for p in persons),
    )
    if household_id is None:
        household_id = _new_household(uow, effective_on)
        new_household = True
    else:
        new_household = False

    fresh = [i for i, row in enumerate(found) if row is None]
    numbers = iter(_issue_numbers(uow, Resident.addressee_no, "registry.addressee_no", len(fresh)))
    now = uow.clock.now()
    changes: list[_Change] = []
    ids: list[uuid.UUID] = []
    re_entries: set[uuid.UUID] = set()
    for i, (p, items, row) in enumerate(zip(persons, items_list, found, strict=True)):
        common = (
            items
            | dict(place)
            | {
                "household_id": household_id,
                "display_order": next_order + i,
                "address_id": address_id,
                "building": building,
                "became_resident_on": became_resident_on,
                "address_set_on": became_resident_on,
            }
        )
        if row is None:
            rid = uuid.uuid4()
            uow.session.add(
                Resident(
                    id=rid,
                    addressee_no=next(numbers),
                    resident_record_code=p.resident_record_code,
                    status="current",
                    created_at=now,
                )
            )
            changes.append(
                _Change(rid, None, common, reason, effective_on, notified_on, notice_kind, False)
            )
        else:
            rid = row.id
            died = _died_on(uow, rid)
            rules.check_within_lifetime(reason, effective_on, p.birth_date, died)
            previous = _open_version(uow, rid)
            _check_after(previous, effective_on)
            if p.resident_record_code is not None:
                uow.session.execute(
                    update(_RESIDENT)
                    .where(_RESIDENT.c.id == rid)
                    .values(resident_record_code=p.resident_record_code)
                )
            _set_status(uow, rid, "current")
            re_entries.add(rid)
            common["resident_record_code"] = p.resident_record_code or row.resident_record_code
            changes.append(
                _Change(
                    rid, previous, common, reason, effective_on, notified_on, notice_kind, False
                )
            )
        ids.append(rid)
    # New identities exist before their history rows reference them.
    uow.session.flush()
    return _Entered(household_id, ids, re_entries, new_household, changes)


def _do_move_in(
    uow: UnitOfWork,
    actor: Actor,
    cmd: MoveIn,
    *,
    action: str,
    planned_move_out_on: date | None,
) -> Recorded:
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, action)
    checked = rules.check_identification(cmd.identification)
    if planned_move_out_on is not None:
        if cmd.from_abroad:
            raise _invalid("from_abroad", "国外からの転入に転入届の特例は使えません。")
        reason = ChangeReason.CARD_BASED_MOVE_IN
    elif cmd.from_abroad:
        reason = ChangeReason.MOVE_IN_FROM_ABROAD
    else:
        reason = ChangeReason.DOMESTIC_MOVE_IN
    with uow, _translated():
        if planned_move_out_on is not None:
            rules.check_card_based_move_in(planned_move_out_on, cmd.effective_on, cmd.notified_on)
        _check_place(
            cmd.moved_in_from,
            cmd.moved_in_from_local_government_code,
            cmd.moved_in_from_postal_code,
            abroad=cmd.from_abroad,
            prefix="moved_in_from",
        )
        place = _blank_place_items() | {
            "moved_in_on": cmd.effective_on,
            "moved_in_from": cmd.moved_in_from,
            "moved_in_from_local_government_code": cmd.moved_in_from_local_government_code,
            "moved_in_from_postal_code": cmd.moved_in_from_postal_code,
        }
        entered = _enter(
            uow,
            cmd.persons,
            reason=reason,
            effective_on=cmd.effective_on,
            notified_on=cmd.notified_on,
            notice_kind=NoticeKind.NOTIFICATION,
            address_id=cmd.address_id,
            building=cmd.building,
            household_id=cmd.household_id,
            expected_household_version=cmd.expected_household_version,
            place=place,
            became_resident_on=cmd.effective_on,
        )
        if cmd.from_abroad:
            # 法第30条の46: a 中長期在留者等 arriving from abroad has a reason of its own;
            # the Japanese members of the same family are a 国外からの転入.
            for c in entered.changes:
                if c.items["foreign_resident"]:
                    c.reason = ChangeReason.FOREIGN_RESIDENT_ENTRY
        if planned_move_out_on is None and not cmd.from_abroad and not cmd.move_out_certificate:
            # REG-CTRL-08: a normal 転入 needs the paper 転出証明書 (or the 特例 path).
            raise _error(RegistryError.MOVE_OUT_CERTIFICATE_REQUIRED, "move_out_certificate")
        late = _is_late(reason, cmd.effective_on, cmd.notified_on)
        _write(uow, entered.changes, recorded_by=staff)
        if late:
            _late_memos(uow, entered.changes, staff)
        reasons = {c.resident_id: c.reason.value for c in entered.changes}
        if planned_move_out_on is not None:
            certificate = "card_based"
        elif cmd.from_abroad:
            certificate = "not_applicable"
        else:
            certificate = "collected" if cmd.move_out_certificate else "not_collected"
        audit.record(
            uow,
            actor,
            action=action,
            subjects=[*entered.resident_ids, entered.household_id],
            detail={
                "change_reason": sorted(set(reasons.values())),
                "persons": len(entered.resident_ids),
                "re_entries": len(entered.re_entries),
                "new_household": entered.new_household,
                "move_out_certificate": certificate,
                "late_notice": late,
                **rules.identification_detail(checked),
            },
        )
        for rid in entered.resident_ids:
            uow.emit(
                ResidentMovedIn(
                    resident_id=rid,
                    household_id=entered.household_id,
                    effective_on=cmd.effective_on,
                    change_reason=reasons[rid],
                    from_local_government_code=cmd.moved_in_from_local_government_code,
                    re_entry=rid in entered.re_entries,
                )
            )
        uow.commit()
    return Recorded(tuple(entered.resident_ids), (entered.household_id,), late)


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def move_in(uow: UnitOfWork, actor: Actor, cmd: MoveIn) -> Recorded:
    """転入 (法第22条) and 国外からの転入 (法第30条の46): new 住民票 for each person, in a new
    household or joining one. Someone with a live record here is refused (REG-CTRL-17); a
    除票 of the same person is re-entered with its 宛名番号 (REG-CTRL-26)."""
    return _do_move_in(uow, actor, cmd, action="registry.move_in", planned_move_out_on=None)


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def card_based_move_in(uow: UnitOfWork, actor: Actor, cmd: CardBasedMoveIn) -> Recorded:
    """転入届の特例 (法第24条の2): as ``move_in``, refused once the 特例 has lapsed
    (rules.check_card_based_move_in: 14 days from the move, 30 from the planned move-out)."""
    return _do_move_in(
        uow,
        actor,
        cmd.move_in,
        action="registry.card_based_move_in",
        planned_move_out_on=cmd.planned_move_out_on,
    )


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def birth(uow: UnitOfWork, actor: Actor, cmd: Birth) -> Recorded:
    """出生: a new 住民票 in an existing household at its address, from the birth date."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.birth")
    reason = ChangeReason.BIRTH
    born = cmd.person.birth_date
    with uow, _translated():
        if cmd.person.resident_id is not None:
            raise _invalid("resident_id", "出生の方に既存の住民票はありません。")
        entered = _enter(
            uow,
            [cmd.person],
            reason=reason,
            effective_on=born,
            notified_on=cmd.notified_on,
            notice_kind=_notice_kind(reason, cmd.notified_on),
            address_id=None,
            building=None,
            household_id=cmd.household_id,
            expected_household_version=cmd.expected_household_version,
            place=_blank_place_items(),
            became_resident_on=born,
        )
        _write(uow, entered.changes, recorded_by=staff)
        (rid,) = entered.resident_ids
        audit.record(
            uow,
            actor,
            action="registry.birth",
            subjects=[rid, entered.household_id],
            detail={"change_reason": reason.value},
        )
        uow.emit(
            ResidentBorn(resident_id=rid, household_id=entered.household_id, effective_on=born)
        )
        uow.commit()
    return Recorded((rid,), (entered.household_id,))


# ---------------------------------------------------------------------------------------
# Removal (転出, 死亡, 職権消除)
# ---------------------------------------------------------------------------------------


@dataclass
class _Removed:
    changes: list[_Change]
    events: list[DomainEvent]
    household_ids: list[uuid.UUID]


def _remove(
    uow: UnitOfWork,
    resident_ids: Sequence[uuid.UUID],
    *,
    reason: ChangeReason,
    effective_on: date,
    notified_on: date | None,
    notice_kind: NoticeKind | None,
    expected: Mapping[uuid.UUID, int],
    extra: Mapping[str, Any],
) -> _Removed:
    """Plan the 消除 of live records on ``effective_on``: a removed row carrying every item
    as it was (what a 除票 and a 転出証明書 print) plus ``extra``, and what becomes of each
    household left behind."""
    today = uow.clock.business_date()
    if not resident_ids:
        raise _invalid("resident_ids", "対象の方を1人以上指定してください。")
    if len(set(resident_ids)) != len(resident_ids):
        raise _invalid("resident_ids", "同じ方が2回指定されています。")
    rules.check_change_dates(reason, effective_on, notified_on, today)
    claimed, by_id = _claim(
        uow,
        households=_households_of(uow, resident_ids),
        residents=resident_ids,
        expected_residents=expected,
    )
    opens = [by_id[rid] for rid in resident_ids]
    changes: list[_Change] = []
    for v in opens:
        rules.check_within_lifetime(reason, effective_on, v.birth_date, None)
        changes.append(
            _change(
                v,
                reason,
                effective_on,
                notified_on,
                removed=True,
                notice_kind=notice_kind,
                **extra,
            )
        )
    events: list[DomainEvent] = []
    households = sorted({v.household_id for v in opens}, key=str)
    leaving = set(resident_ids)
    for household_id in households:
        left = _leave(uow, claimed[household_id], leaving, effective_on)
        changes.extend(left.changes)
        events.extend(left.events)
    for rid in resident_ids:
        _set_status(uow, rid, "removed")
    return _Removed(changes, events, households)


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def planned_move_out(uow: UnitOfWork, actor: Actor, cmd: PlannedMoveOut) -> Recorded:
    """転出届 (法第24条): the 住民票 of each resident is removed from ``planned_on`` (a
    future date is allowed: 転出 is notified in advance), keeping the planned destination;
    a notice more than 14 days after the move is refused (職権消除 instead)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.planned_move_out")
    checked = rules.check_identification(cmd.identification)
    if cmd.abroad and cmd.card_based:
        raise _invalid("card_based", "国外への転出に転出届の特例は使えません。")
    if cmd.abroad:
        reason = ChangeReason.MOVE_OUT_ABROAD
    elif cmd.card_based:
        reason = ChangeReason.CARD_BASED_MOVE_OUT
    else:
        reason = ChangeReason.DOMESTIC_MOVE_OUT
    with uow, _translated():
        rules.check_move_out_notice(cmd.planned_on, cmd.notified_on)
        _check_place(
            cmd.destination,
            cmd.destination_local_government_code,
            cmd.destination_postal_code,
            abroad=cmd.abroad,
            prefix="destination",
        )
        removed = _remove(
            uow,
            cmd.resident_ids,
            reason=reason,
            effective_on=cmd.planned_on,
            notified_on=cmd.notified_on,
            notice_kind=NoticeKind.NOTIFICATION,
            expected=cmd.expected_versions or {},
            extra={
                "planned_move_out_on": cmd.planned_on,
                "planned_move_out_to": cmd.destination,
                "planned_move_out_to_local_government_code": cmd.destination_local_government_code,
                "planned_move_out_to_postal_code": cmd.destination_postal_code,
            },
        )
        late = _is_late(reason, cmd.planned_on, cmd.notified_on)
        _write(uow, removed.changes, recorded_by=staff, late_for=reason if late else None)
        audit.record(
            uow,
            actor,
            action="registry.planned_move_out",
            subjects=[*cmd.resident_ids, *removed.household_ids],
            detail={
                "change_reason": reason.value,
                "persons": len(cmd.resident_ids),
                "late_notice": late,
                "head_changes": len(removed.events),
                **rules.identification_detail(checked),
            },
        )
        household_of = {c.resident_id: c.items["household_id"] for c in removed.changes}
        for rid in cmd.resident_ids:
            uow.emit(
                ResidentMovedOut(
                    resident_id=rid,
                    household_id=household_of[rid],
                    effective_on=cmd.planned_on,
                    change_reason=reason.value,
                    confirmed=False,
                    to_local_government_code=cmd.destination_local_government_code,
                )
            )
        for event in removed.events:
            uow.emit(event)
        uow.commit()
    touched = tuple(dict.fromkeys(c.resident_id for c in removed.changes))
    return Recorded(touched, tuple(removed.household_ids), late)


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def confirm_move_out(uow: UnitOfWork, actor: Actor, cmd: MoveOutConfirmation) -> Recorded:
    """転出確定 on the 転入通知 (法第9条第1項): the 除票 gets the confirmed date and
    destination and the 転入通知受理日, beside the planned ones (標準仕様 j680)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.confirm_move_out")
    reason = ChangeReason.MOVE_OUT_CONFIRMATION
    with uow, _translated():
        today = uow.clock.business_date()
        _check_place(
            cmd.destination,
            cmd.destination_local_government_code,
            cmd.destination_postal_code,
            abroad=False,
            prefix="destination",
        )
        _claim_resident(uow, cmd.resident_id, cmd.expected_version)
        v = _open_version(uow, cmd.resident_id)
        if not (
            v.removed
            and ChangeReason(v.change_reason).is_move_out
            and v.move_in_notice_received_on is None
        ):
            raise _invalid(
                "resident_id", "確定できる転出 (転入通知の届いていない転出) がありません。"
            )
        rules.check_change_dates(reason, cmd.received_on, cmd.received_on, today)
        if cmd.moved_out_on > today:
            raise _error(RegistryError.EFFECTIVE_ON_IN_FUTURE, "moved_out_on")
        rules.check_within_lifetime(reason, cmd.moved_out_on, v.birth_date, None)
        # Entered on the day the notice came; the 除票 keeps its removal date.
        change = _change(
            v,
            reason,
            max(cmd.received_on, v.valid_from),
            cmd.received_on,
            removed=True,
            moved_out_on=cmd.moved_out_on,
            moved_out_to=cmd.destination,
            moved_out_to_local_government_code=cmd.destination_local_government_code,
            moved_out_to_postal_code=cmd.destination_postal_code,
            move_in_notice_received_on=cmd.received_on,
        )
        _write(uow, [change], recorded_by=staff)
        audit.record(
            uow,
            actor,
            action="registry.confirm_move_out",
            subjects=[cmd.resident_id],
            detail={"change_reason": reason.value, "fields": _fields([change])},
        )
        uow.emit(
            ResidentMovedOut(
                resident_id=cmd.resident_id,
                household_id=v.household_id,
                effective_on=cmd.moved_out_on,
                change_reason=v.change_reason,
                confirmed=True,
                to_local_government_code=cmd.destination_local_government_code,
            )
        )
        uow.commit()
    return Recorded((cmd.resident_id,), (v.household_id,))


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def death(uow: UnitOfWork, actor: Actor, cmd: Death) -> Recorded:
    """死亡: the 住民票 becomes a 除票 from the date of death (kept 150 years, 住基令第34条);
    the household loses a member (rules.successor_when_head_leaves)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.death")
    reason = ChangeReason.DEATH
    with uow, _translated():
        removed = _remove(
            uow,
            [cmd.resident_id],
            reason=reason,
            effective_on=cmd.died_on,
            notified_on=cmd.notified_on,
            notice_kind=_notice_kind(reason, cmd.notified_on),
            expected={}
            if cmd.expected_version is None
            else {cmd.resident_id: cmd.expected_version},
            extra={},
        )
        _write(uow, removed.changes, recorded_by=staff)
        (household_id,) = removed.household_ids
        audit.record(
            uow,
            actor,
            action="registry.death",
            subjects=[cmd.resident_id, household_id],
            detail={"change_reason": reason.value, "head_changes": len(removed.events)},
        )
        uow.emit(
            ResidentDied(
                resident_id=cmd.resident_id, household_id=household_id, effective_on=cmd.died_on
            )
        )
        for event in removed.events:
            uow.emit(event)
        uow.commit()
    touched = tuple(dict.fromkeys(c.resident_id for c in removed.changes))
    return Recorded(touched, (household_id,))


# ---------------------------------------------------------------------------------------
# 転居 and 世帯変更
# ---------------------------------------------------------------------------------------


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def move_within(uow: UnitOfWork, actor: Actor, cmd: MoveWithin) -> Recorded:
    """転居 (法第23条): only the address items change, and where the movers sit in a
    household (rules.check_move_within, REG-CTRL-18)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.move_within")
    checked = rules.check_identification(cmd.identification)
    reason = ChangeReason.MOVE_WITHIN
    movers = list(cmd.resident_ids)
    with uow, _translated():
        today = uow.clock.business_date()
        if not movers or len(set(movers)) != len(movers):
            raise _invalid("resident_ids", "転居する方を重複なく指定してください。")
        rules.check_change_dates(reason, cmd.effective_on, cmd.notified_on, today)
        # The movers' rows and their households' members, read once and claimed as read.
        loaded = _load(uow, movers, cmd.address_id, cmd.effective_on)
        joined = () if cmd.join_household_id is None else (cmd.join_household_id,)
        claimed, opens = _claim(
            uow,
            households=[*loaded.households, *joined],
            residents=movers,
            expected_residents=cmd.expected_versions,
            loaded=loaded,
        )
        for v in opens.values():
            rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
        address: dict[str, Any] = {
            "address_id": cmd.address_id,
            "building": cmd.building,
            "address_set_on": cmd.effective_on,
        }
        origins = sorted({v.household_id for v in opens.values()}, key=str)
        changes: list[_Change] = []
        events: list[DomainEvent] = []
        if cmd.new_relationships is None:
            if cmd.join_household_id is not None:
                raise _invalid("new_relationships", "加わる世帯での続柄を指定してください。")
            if len(origins) != 1:
                raise _invalid("resident_ids", "別々の世帯の方は、転居先の世帯を指定してください。")
            household_id = origins[0]
            if {m.resident_id for m in loaded.members.get(household_id, ())} != set(movers):
                raise _invalid(
                    "resident_ids",
                    "世帯の一部の方の転居です。新しい世帯または加わる世帯と続柄を指定してください。",
                )
            target = household_id
            placement: dict[uuid.UUID, dict[str, Any]] = {rid: {} for rid in movers}
        else:
            if set(cmd.new_relationships) != set(movers):
                raise _invalid("new_relationships", "転居する方全員の続柄を指定してください。")
            for household_id in origins:
                left = _leave(uow, claimed[household_id], set(movers), cmd.effective_on)
                changes.extend(left.changes)
                events.extend(left.events)
            joining = [HouseholdMember(rid, cmd.new_relationships[rid]) for rid in movers]
            if cmd.join_household_id is not None:
                if cmd.join_household_id in origins:
                    raise _invalid("join_household_id", "元の世帯に加わる転居は指定できません。")
                if claimed[cmd.join_household_id].dissolved_on is not None:
                    raise _invalid("join_household_id", "この世帯は既に消滅しています。")
                members = _members(uow, cmd.join_household_id)
                if not members:
                    raise _invalid("join_household_id", "この世帯には現在住民がいません。")
                if any(
                    (m.address_id, m.building) != (cmd.address_id, cmd.building) for m in members
                ):
                    raise _invalid("address_id", "加わる世帯の住所 (方書を含む) と異なります。")
                current = [HouseholdMember(m.resident_id, m.relationship) for m in members]
                vacant = not any(m.relationship == _HEAD for m in members)
                rules.check_household(
                    current + joining,
                    allow_vacant_head=vacant and not any(j.relationship == _HEAD for j in joining),
                )
                target = cmd.join_household_id
                first = max(m.display_order for m in members) + 1
            else:
                rules.check_household(joining)
                target = _new_household(uow, cmd.effective_on)
                first = 1
            placement = {
                rid: {
                    "household_id": target,
                    "relationship": cmd.new_relationships[rid],
                    "display_order": first + i,
                }
                for i, rid in enumerate(movers)
            }
        moves = []
        for rid in movers:
            v = opens[rid]
            change = _change(
                v, reason, cmd.effective_on, cmd.notified_on, **address, **placement[rid]
            )
            rules.check_move_within(_snapshot(v), change.items)
            moves.append(change)
        late = _is_late(reason, cmd.effective_on, cmd.notified_on)
        _write(uow, moves + changes, recorded_by=staff, late_for=reason if late else None)
        households = tuple(dict.fromkeys([*origins, target]))
        audit.record(
            uow,
            actor,
            action="registry.move_within",
            subjects=[*movers, *households],
            detail={
                "change_reason": reason.value,
                "persons": len(movers),
                "fields": _fields(moves),
                "late_notice": late,
                "head_changes": len(events),
                **rules.identification_detail(checked),
            },
        )
        for rid in movers:
            before = opens[rid].household_id
            uow.emit(
                ResidentMovedWithin(
                    resident_id=rid,
                    household_id=target,
                    effective_on=cmd.effective_on,
                    previous_household_id=before if before != target else None,
                )
            )
        for event in events:
            uow.emit(event)
        uow.commit()
    touched = tuple(dict.fromkeys([*movers, *(c.resident_id for c in changes)]))
    return Recorded(touched, households, late)


def _household_event(change: _Change, previous_household_id: uuid.UUID) -> HouseholdChanged:
    return HouseholdChanged(
        resident_id=change.resident_id,
        household_id=change.items["household_id"],
        previous_household_id=previous_household_id,
        effective_on=change.effective_on,
        change_reason=change.reason.value,
        became_head=change.items["relationship"] == _HEAD
        and (change.previous is None or change.previous.relationship != _HEAD),
    )


def _finish_household_change(
    uow: UnitOfWork,
    actor: Actor,
    *,
    action: str,
    staff: uuid.UUID,
    reason: ChangeReason,
    changes: list[_Change],
    households: Sequence[uuid.UUID],
    notified_on: date,
    identification: Identification,
) -> Recorded:
    late = _is_late(reason, changes[0].effective_on, notified_on)
    _write(uow, changes, recorded_by=staff, late_for=reason if late else None)
    audit.record(
        uow,
        actor,
        action=action,
        subjects=[*(c.resident_id for c in changes), *households],
        detail={
            "change_reason": reason.value,
            "persons": len(changes),
            "fields": _fields(changes),
            "late_notice": late,
            **rules.identification_detail(identification),
        },
    )
    for c in changes:
        assert c.previous is not None
        uow.emit(_household_event(c, c.previous.household_id))
    uow.commit()
    return Recorded(tuple(c.resident_id for c in changes), tuple(households), late)


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def household_split(uow: UnitOfWork, actor: Actor, cmd: HouseholdSplit) -> Recorded:
    """世帯分離 (法第25条): the leaving members form a new household at the same address;
    both households have exactly one 世帯主 afterwards (rules.check_household_split)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.household_split")
    checked = rules.check_identification(cmd.identification)
    reason = ChangeReason.HOUSEHOLD_SPLIT
    with uow, _translated():
        rules.check_change_dates(
            reason, cmd.effective_on, cmd.notified_on, uow.clock.business_date()
        )
        _claim_household(uow, cmd.household_id, cmd.expected_household_version)
        members = {m.resident_id: m for m in _members(uow, cmd.household_id)}
        if not set(cmd.leaving) <= members.keys() or not set(cmd.staying) <= members.keys():
            raise _invalid("leaving", "この世帯の方ではない方が指定されています。")
        if set(cmd.leaving) & set(cmd.staying):
            raise _invalid("staying", "分離する方と残る方が重複しています。")
        staying = [
            HouseholdMember(rid, cmd.staying.get(rid, m.relationship))
            for rid, m in members.items()
            if rid not in cmd.leaving
        ]
        leaving = [HouseholdMember(rid, rel) for rid, rel in cmd.leaving.items()]
        rules.check_household_split(staying, leaving)
        restated = {rid for rid, rel in cmd.staying.items() if rel != members[rid].relationship}
        _, opens = _claim(uow, residents=[*cmd.leaving, *restated])
        new_id = _new_household(uow, cmd.effective_on)
        changes: list[_Change] = []
        for order, (rid, rel) in enumerate(cmd.leaving.items(), start=1):
            v = opens[rid]
            rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
            changes.append(
                _change(
                    v,
                    reason,
                    cmd.effective_on,
                    cmd.notified_on,
                    household_id=new_id,
                    relationship=rel,
                    display_order=order,
                )
            )
        for rid in sorted(restated, key=str):
            changes.append(
                _change(
                    opens[rid],
                    reason,
                    cmd.effective_on,
                    cmd.notified_on,
                    relationship=cmd.staying[rid],
                )
            )
        return _finish_household_change(
            uow,
            actor,
            action="registry.household_split",
            staff=staff,
            reason=reason,
            changes=changes,
            households=(cmd.household_id, new_id),
            notified_on=cmd.notified_on,
            identification=checked,
        )


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def household_merge(uow: UnitOfWork, actor: Actor, cmd: HouseholdMerge) -> Recorded:
    """世帯合併 (法第25条): the members of one household join another at the same address;
    the first household is dissolved."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.household_merge")
    checked = rules.check_identification(cmd.identification)
    reason = ChangeReason.HOUSEHOLD_MERGE
    with uow, _translated():
        rules.check_change_dates(
            reason, cmd.effective_on, cmd.notified_on, uow.clock.business_date()
        )
        if cmd.from_household_id == cmd.into_household_id:
            raise _invalid("into_household_id", "同じ世帯どうしは合併できません。")
        expected = {
            household: version
            for household, version in (
                (cmd.from_household_id, cmd.expected_from_version),
                (cmd.into_household_id, cmd.expected_into_version),
            )
            if version is not None
        }
        claimed, _ = _claim(
            uow,
            households=(cmd.from_household_id, cmd.into_household_id),
            expected_households=expected,
        )
        source = claimed[cmd.from_household_id]
        joining = _members(uow, cmd.from_household_id)
        into = _members(uow, cmd.into_household_id)
        if not joining or not into:
            raise _invalid("from_household_id", "現在住民のいない世帯は合併できません。")
        if set(cmd.relationships) != {m.resident_id for m in joining}:
            raise _invalid("relationships", "合併する世帯の全員の続柄を指定してください。")
        places = {(m.address_id, m.building) for m in (*joining, *into)}
        if len(places) != 1:
            raise _invalid(
                "into_household_id", "住所の異なる世帯の合併は、転居として届け出てください。"
            )
        vacant = not any(m.relationship == _HEAD for m in into)
        rules.check_household(
            [HouseholdMember(m.resident_id, m.relationship) for m in into]
            + [HouseholdMember(rid, rel) for rid, rel in cmd.relationships.items()],
            allow_vacant_head=vacant
            and not any(rel == _HEAD for rel in cmd.relationships.values()),
        )
        first = max(m.display_order for m in into) + 1
        _, opens = _claim(uow, residents=[m.resident_id for m in joining])
        changes: list[_Change] = []
        for order, m in enumerate(joining, start=first):
            v = opens[m.resident_id]
            rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
            changes.append(
                _change(
                    v,
                    reason,
                    cmd.effective_on,
                    cmd.notified_on,
                    household_id=cmd.into_household_id,
                    relationship=cmd.relationships[m.resident_id],
                    display_order=order,
                )
            )
        _dissolve(uow, source, cmd.effective_on)
        return _finish_household_change(
            uow,
            actor,
            action="registry.household_merge",
            staff=staff,
            reason=reason,
            changes=changes,
            households=(cmd.into_household_id, cmd.from_household_id),
            notified_on=cmd.notified_on,
            identification=checked,
        )


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def household_head_change(uow: UnitOfWork, actor: Actor, cmd: HouseholdHeadChange) -> Recorded:
    """世帯主変更 (法第25条): another member becomes 世帯主 and the 続柄 are restated
    relative to them (rules.check_household with the new head)."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.household_head_change"
    )
    checked = rules.check_identification(cmd.identification)
    reason = ChangeReason.HOUSEHOLD_HEAD_CHANGE
    with uow, _translated():
        rules.check_change_dates(
            reason, cmd.effective_on, cmd.notified_on, uow.clock.business_date()
        )
        _claim_household(uow, cmd.household_id, cmd.expected_household_version)
        members = {m.resident_id: m for m in _members(uow, cmd.household_id)}
        if cmd.new_head_id not in members or not set(cmd.relationships) <= members.keys():
            raise _invalid("new_head_id", "この世帯の方ではない方が指定されています。")
        if members[cmd.new_head_id].relationship == _HEAD:
            raise _invalid("new_head_id", "指定した方は既に世帯主です。")
        after = {rid: m.relationship for rid, m in members.items()}
        after[cmd.new_head_id] = _HEAD
        after.update(cmd.relationships)
        rules.check_household(
            [HouseholdMember(rid, rel) for rid, rel in after.items()], head_id=cmd.new_head_id
        )
        changed = [rid for rid, rel in after.items() if rel != members[rid].relationship]
        _, opens = _claim(uow, residents=changed)
        changes: list[_Change] = []
        for rid in changed:
            v = opens[rid]
            rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
            changes.append(
                _change(v, reason, cmd.effective_on, cmd.notified_on, relationship=after[rid])
            )
        return _finish_household_change(
            uow,
            actor,
            action="registry.household_head_change",
            staff=staff,
            reason=reason,
            changes=changes,
            households=(cmd.household_id,),
            notified_on=cmd.notified_on,
            identification=checked,
        )


# ---------------------------------------------------------------------------------------
# 外国人住民 items and 個人番号
# ---------------------------------------------------------------------------------------


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def change_foreign_resident_status(
    uow: UnitOfWork, actor: Actor, cmd: ForeignResidentStatusChange
) -> Recorded:
    """在留資格・在留期間・在留カード・国籍 changed on an 出入国在留管理庁 notice (法第30条の50),
    entered as a 職権修正 from ``effective_on``."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.change_foreign_resident_status"
    )
    reason = ChangeReason.EX_OFFICIO_CORRECTION
    with uow, _translated():
        today = uow.clock.business_date()
        rules.check_change_dates(reason, cmd.effective_on, cmd.notified_on, today)
        v = _current(uow, cmd.resident_id, cmd.expected_version)
        if not v.foreign_resident:
            raise _error(RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT, "resident_id")
        rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
        change = _change(
            v,
            reason,
            cmd.effective_on,
            cmd.notified_on,
            nationality=cmd.nationality,
            foreign_resident_class=cmd.foreign_resident_class,
            residence_status=cmd.residence_status,
            residence_period=cmd.residence_period,
            residence_expires_on=cmd.residence_expires_on,
            residence_card_no=cmd.residence_card_no,
        )
        _check_nationality_items(change.items, cmd.effective_on)
        fields = _fields([change])
        if not fields:
            raise _invalid("resident_id", "在留資格等の項目に変更がありません。")
        if _card_in_use(uow, cmd.residence_card_no, cmd.resident_id):
            raise _error(RegistryError.ALREADY_RESIDENT, "residence_card_no")
        _write(uow, [change], recorded_by=staff)
        audit.record(
            uow,
            actor,
            action="registry.change_foreign_resident_status",
            subjects=[cmd.resident_id],
            detail={"change_reason": reason.value, "fields": fields},
        )
        uow.emit(
            ForeignResidentStatusChanged(
                resident_id=cmd.resident_id,
                effective_on=cmd.effective_on,
                change_reason=reason.value,
                foreign_resident_class=cmd.foreign_resident_class,
            )
        )
        uow.commit()
    return Recorded((cmd.resident_id,), (v.household_id,))


@authorised(Permission.REGISTRY_RECORD_CHANGE)
def change_individual_number(
    uow: UnitOfWork, actor: Actor, keys: Keyring, cmd: IndividualNumberChange
) -> Recorded:
    """個人番号 assigned (⑯, after 出生 / 国外転入) or changed on 請求 (番号法 第7条第2項):
    the check digit is verified (REG-CTRL-23), a change must name the current number
    (REG-CTRL-25), the number is sealed in the vault in this transaction, and the 住民票
    gets a version with 異動事由 個人番号の変更."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_RECORD_CHANGE, "registry.change_individual_number"
    )
    reason = ChangeReason.INDIVIDUAL_NUMBER_CHANGE
    checked = rules.check_identification(cmd.identification)
    with uow, _translated():
        rules.check_individual_number(cmd.individual_number)
        rules.check_matches_certificate(cmd.individual_number, cmd.certificate_number)
        rules.check_change_dates(
            reason, cmd.effective_on, cmd.claimed_on, uow.clock.business_date()
        )
        v = _current(uow, cmd.resident_id, cmd.expected_version)
        rules.check_within_lifetime(reason, cmd.effective_on, v.birth_date, None)
        change = _change(v, reason, cmd.effective_on, cmd.claimed_on)
        first = vault.number_for_display(uow, actor, cmd.resident_id) == vault.NOT_RECORDED
        if not first:
            # A change names both numbers (REG-CTRL-25), so a mistyped resident or a wrong
            # card is caught before the new number replaces the right one.
            if not cmd.previous_number:
                raise _error(RegistryError.PREVIOUS_NUMBER_REQUIRED, "previous_number")
            if not vault.is_current_number(uow, keys, cmd.resident_id, cmd.previous_number):
                raise _error(RegistryError.PREVIOUS_NUMBER_MISMATCH, "previous_number")
        vault.store_number(uow, actor, keys, cmd.resident_id, cmd.individual_number)
        _write(uow, [change], recorded_by=staff)
        audit.record(
            uow,
            actor,
            action="registry.change_individual_number",
            subjects=[cmd.resident_id],
            detail={
                "change_reason": reason.value,
                "fields": ["individual_number"],
                "first_assignment": first,
                **rules.identification_detail(checked),
            },
        )
        uow.emit(
            IndividualNumberChanged(
                resident_id=cmd.resident_id, effective_on=cmd.effective_on, first_assignment=first
            )
        )
        uow.commit()
    return Recorded((cmd.resident_id,), (v.household_id,))


# ---------------------------------------------------------------------------------------
# 職権記載 / 職権修正 / 職権消除: draft (仮登録) → 決裁 by someone else
# ---------------------------------------------------------------------------------------

_DRAFT_ACTIONS = {
    ExOfficioEntry: "registry.ex_officio_entry",
    ExOfficioCorrection: "registry.ex_officio_correction",
    ExOfficioDeletion: "registry.ex_officio_deletion",
}
_CORRECTION_REASONS = frozenset(
    {
        ChangeReason.EX_OFFICIO_CORRECTION,
        ChangeReason.CLERICAL_ERROR_CORRECTION,
        ChangeReason.MINOR_CORRECTION,
    }
)
# Items a correction may restate. 世帯 placement and 続柄 change by 世帯変更, the
# 住民票コード and nationality by their own procedures.
_CORRECTABLE = frozenset(_ITEM_COLUMNS) - {
    "household_id",
    "relationship",
    "display_order",
    "resident_record_code",
    "foreign_resident",
}


@dataclass
class _Outcome:
    resident_ids: list[uuid.UUID]
    household_ids: list[uuid.UUID]
    fields: list[str]
    events: list[DomainEvent]


def _apply_entry(
    uow: UnitOfWork, staff: uuid.UUID, cmd: ExOfficioEntry, approval_id: int | None
) -> _Outcome:
    reason = cmd.change_reason
    if (
        reason.record_class is not rules.RecordClass.ENTRY
        or reason.origin is not rules.Origin.EX_OFFICIO
        or reason is ChangeReason.BIRTH
    ):
        raise _invalid(
            "change_reason", "職権記載の異動事由を指定してください (出生は出生の処理で行います)。"
        )
    entered = _enter(
        uow,
        [cmd.person],
        reason=reason,
        effective_on=cmd.effective_on,
        notified_on=cmd.notified_on,
        notice_kind=cmd.notice_kind or _notice_kind(reason, cmd.notified_on),
        address_id=cmd.address_id,
        building=cmd.building,
        household_id=cmd.household_id,
        expected_household_version=None,
        place=_blank_place_items(),
        became_resident_on=cmd.effective_on,
    )
    _write(uow, entered.changes, recorded_by=staff, approval_id=approval_id)
    (rid,) = entered.resident_ids
    event = ResidentEnteredExOfficio(
        resident_id=rid,
        household_id=entered.household_id,
        effective_on=cmd.effective_on,
        change_reason=reason.value,
    )
    return _Outcome([rid], [entered.household_id], [], [event])


def _apply_deletion(
    uow: UnitOfWork, staff: uuid.UUID, cmd: ExOfficioDeletion, approval_id: int | None
) -> _Outcome:
    reason = cmd.change_reason
    if (
        reason.record_class is not rules.RecordClass.REMOVAL
        or reason.origin is not rules.Origin.EX_OFFICIO
        or reason is ChangeReason.DEATH
    ):
        raise _invalid(
            "change_reason", "職権消除の異動事由を指定してください (死亡は死亡の処理で行います)。"
        )
    removed = _remove(
        uow,
        [cmd.resident_id],
        reason=reason,
        effective_on=cmd.effective_on,
        notified_on=cmd.notified_on,
        notice_kind=cmd.notice_kind or _notice_kind(reason, cmd.notified_on),
        expected={cmd.resident_id: cmd.expected_version} if cmd.expected_version else {},
        extra={},
    )
    _write(uow, removed.changes, recorded_by=staff, approval_id=approval_id)
    event = ResidentRemovedExOfficio(
        resident_id=cmd.resident_id,
        household_id=removed.household_ids[0],
        effective_on=cmd.effective_on,
        change_reason=reason.value,
    )
    return _Outcome(
        list(dict.fromkeys(c.resident_id for c in removed.changes)),
        removed.household_ids,
        [],
        [event, *removed.events],
    )


@dataclass
class _Restated:
    """A live version re-recorded by a correction: ``source`` is superseded, and this
    replaces (part of) it. ``boundary`` marks the state that begins on ``applies_from``."""

    source: ResidentVersion
    valid_from: date
    valid_to: date | None
    reason: ChangeReason
    items: dict[str, Any]
    boundary: bool = False


def _apply_correction(
    uow: UnitOfWork, staff: uuid.UUID, cmd: ExOfficioCorrection, approval_id: int | None
) -> _Outcome:
    """Supersede every live version from ``applies_from`` on and insert corrected copies
    (recorded now): "as of" reads show the right values for the whole period, "as recorded
    at" an earlier instant still shows what the registry said then. A version that starts
    before ``applies_from`` is split there."""
    reason = cmd.change_reason
    if reason not in _CORRECTION_REASONS:
        raise _invalid(
            "change_reason", "職権修正・誤記修正・軽微な修正のいずれかを指定してください。"
        )
    unknown = sorted(set(cmd.corrections) - _CORRECTABLE)
    if not cmd.corrections or unknown:
        raise _invalid(
            unknown[0] if unknown else "corrections",
            "修正できる記載事項を指定してください (世帯・続柄は世帯変更で処理します)。",
        )
    values = {k: _coerce(k, v) for k, v in cmd.corrections.items()}
    today = uow.clock.business_date()
    _claim_resident(uow, cmd.resident_id, cmd.expected_version)
    live = list(
        uow.session.scalars(
            select(ResidentVersion)
            .where(
                ResidentVersion.resident_id == cmd.resident_id,
                ResidentVersion.superseded_at.is_(None),
            )
            .order_by(ResidentVersion.valid_from, ResidentVersion.history_no)
        )
    )
    start = cmd.applies_from or live[0].valid_from
    affected = [
        v for v in live if v.valid_from >= start or v.valid_to is None or v.valid_to > start
    ]
    if not affected:
        raise _invalid("applies_from", "修正の対象となる履歴がありません。")
    if start > today:
        raise _error(RegistryError.EFFECTIVE_ON_IN_FUTURE, "applies_from")
    if "address_id" in values:
        _check_address(uow, values["address_id"], start)
    plans: list[_Restated] = []
    for v in affected:
        items = _snapshot(v)
        fixed = items | values
        if not rules.changed_fields(items, fixed):
            continue
        if v.valid_from < start:
            # The part before the error stays as it was, re-recorded so history is whole;
            # the rest is a state that begins with the correction itself.
            plans.append(_Restated(v, v.valid_from, start, ChangeReason(v.change_reason), items))
            plans.append(_Restated(v, start, v.valid_to, reason, fixed, boundary=True))
        else:
            plans.append(
                _Restated(v, v.valid_from, v.valid_to, ChangeReason(v.change_reason), fixed)
            )
    if not plans:
        raise _invalid("corrections", "修正後の値が現在の記載と同じです。")
    for p in plans:
        if p.items != _snapshot(p.source):
            # A 除票 may follow the end of the stay itself (在留期間満了による職権消除), so
            # its period is checked against the day the stay ended, not the removal.
            expires = p.items["residence_expires_on"]
            period_from = (
                min(p.valid_from, expires) if p.source.removed and expires else p.valid_from
            )
            _check_person_items(p.items, period_from, today)
            rules.check_within_lifetime(reason, p.valid_from, p.items["birth_date"], None)
    now = uow.clock.now()
    for v in {id(p.source): p.source for p in plans}.values():
        v.superseded_at = now
    uow.session.flush()
    next_no = _next_history_no(uow, cmd.resident_id)
    rows = [
        ResidentVersion(
            resident_id=cmd.resident_id,
            history_no=next_no + i,
            valid_from=p.valid_from,
            valid_to=p.valid_to,
            closed_at=None if p.valid_to is None else now,
            notified_on=None if p.boundary else p.source.notified_on,
            notice_kind=None if p.boundary else p.source.notice_kind,
            change_reason=p.reason.value,
            recorded_at=now,
            recorded_by=staff,
            approval_id=approval_id,
            removed=p.source.removed,
            **p.items,
        )
        for i, p in enumerate(plans)
    ]
    uow.session.add_all(rows)
    uow.session.flush()
    fields = sorted(values)
    event = ResidentRecordCorrected(
        resident_id=cmd.resident_id,
        effective_on=start,
        change_reason=reason.value,
        changed_fields=",".join(fields),
    )
    return _Outcome([cmd.resident_id], [affected[-1].household_id], fields, [event])


def _coerce(name: str, value: Any) -> Any:
    """A corrected value as its column holds it; draft values come back from JSON."""
    kind = _COLUMN_TYPES[name]
    if value is None:
        if not ResidentVersion.__table__.columns[name].nullable:
            raise _invalid(name, "この記載事項は空にできません。")
        return None
    try:
        if isinstance(kind, Date):
            return value if isinstance(value, date) else date.fromisoformat(value)
        if isinstance(kind, Integer | SmallInteger):
            if isinstance(value, bool):
                raise TypeError
            return int(value)
        if kind.python_type is bool:
            if not isinstance(value, bool):
                raise TypeError
            return value
    except (TypeError, ValueError):
        raise _invalid(name, "記載事項の値の形式が正しくありません。") from None
    if not isinstance(value, str):
        raise _invalid(name, "記載事項の値の形式が正しくありません。")
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _draft(cmd: ExOfficioRequest) -> tuple[list[uuid.UUID], dict[str, Any], dict[str, Any]]:
    """(resident ids, payload of ids/codes/dates/field names, draft values)."""
    if isinstance(cmd, ExOfficioEntry):
        person = {k: _jsonable(v) for k, v in vars(cmd.person).items()}
        payload = {
            "kind": "entry",
            "change_reason": cmd.change_reason.value,
            "effective_on": cmd.effective_on.isoformat(),
            "notified_on": _jsonable(cmd.notified_on),
            "notice_kind": None if cmd.notice_kind is None else cmd.notice_kind.value,
            "household_id": _jsonable(cmd.household_id),
            "address_id": cmd.address_id,
            "resident_id": _jsonable(cmd.person.resident_id),
            "fields": sorted(k for k, v in person.items() if v is not None),
        }
        values = {"person": person, "building": cmd.building}
        ids = [cmd.person.resident_id] if cmd.person.resident_id else []
        return ids, payload, values
    if isinstance(cmd, ExOfficioCorrection):
        payload = {
            "kind": "correction",
            "resident_id": str(cmd.resident_id),
            "change_reason": cmd.change_reason.value,
            "applies_from": _jsonable(cmd.applies_from),
            "expected_version": cmd.expected_version,
            "fields": sorted(cmd.corrections),
        }
        values = {k: _jsonable(v) for k, v in cmd.corrections.items()}
        return [cmd.resident_id], payload, values
    payload = {
        "kind": "deletion",
        "resident_id": str(cmd.resident_id),
        "change_reason": cmd.change_reason.value,
        "effective_on": cmd.effective_on.isoformat(),
        "notified_on": _jsonable(cmd.notified_on),
        "notice_kind": None if cmd.notice_kind is None else cmd.notice_kind.value,
        "expected_version": cmd.expected_version,
        "fields": [],
    }
    return [cmd.resident_id], payload, {}


def _undraft(payload: Mapping[str, Any], values: Mapping[str, Any]) -> ExOfficioRequest:
    def day(key: str) -> date | None:
        raw = payload.get(key)
        return None if raw is None else date.fromisoformat(raw)

    def notice() -> NoticeKind | None:
        raw = payload.get("notice_kind")
        return None if raw is None else NoticeKind(raw)

    kind = payload["kind"]
    reason = ChangeReason(payload["change_reason"])
    if kind == "entry":
        raw = dict(values["person"])
        for key in ("birth_date", "residence_expires_on", "became_foreign_resident_on"):
            if raw.get(key) is not None:
                raw[key] = date.fromisoformat(raw[key])
        if raw.get("resident_id") is not None:
            raw["resident_id"] = uuid.UUID(raw["resident_id"])
        household = payload.get("household_id")
        effective_on = day("effective_on")
        assert effective_on is not None
        return ExOfficioEntry(
            person=NewPerson(**raw),
            address_id=payload["address_id"],
            building=values.get("building"),
            effective_on=effective_on,
            change_reason=reason,
            household_id=None if household is None else uuid.UUID(household),
            notified_on=day("notified_on"),
            notice_kind=notice(),
        )
    resident_id = uuid.UUID(payload["resident_id"])
    if kind == "correction":
        return ExOfficioCorrection(
            resident_id=resident_id,
            corrections=dict(values),
            applies_from=day("applies_from"),
            change_reason=reason,
            expected_version=payload.get("expected_version"),
        )
    effective_on = day("effective_on")
    assert effective_on is not None
    return ExOfficioDeletion(
        resident_id=resident_id,
        effective_on=effective_on,
        change_reason=reason,
        notified_on=day("notified_on"),
        notice_kind=notice(),
        expected_version=payload.get("expected_version"),
    )


def _apply(
    uow: UnitOfWork, staff: uuid.UUID, cmd: ExOfficioRequest, approval_id: int | None
) -> _Outcome:
    if isinstance(cmd, ExOfficioEntry):
        return _apply_entry(uow, staff, cmd, approval_id)
    if isinstance(cmd, ExOfficioCorrection):
        return _apply_correction(uow, staff, cmd, approval_id)
    return _apply_deletion(uow, staff, cmd, approval_id)


@authorised(Permission.REGISTRY_REQUEST_EX_OFFICIO)
def request_ex_officio(uow: UnitOfWork, actor: Actor, cmd: ExOfficioRequest) -> int:
    """仮登録 of a 職権記載 / 職権修正 / 職権消除 (REG-CTRL-12): the change is checked now by
    running it inside a savepoint that is rolled back, then kept as a draft for someone
    else's 決裁. ``payload`` holds ids, codes, dates and field names; the proposed values
    sit in ``draft_values`` until the draft is decided. Returns the draft's id."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_REQUEST_EX_OFFICIO, "registry.request_ex_officio"
    )
    ids, payload, values = _draft(cmd)
    with uow, _translated():
        if isinstance(cmd, ExOfficioCorrection | ExOfficioDeletion):
            # The draft is decided against the record as it is now (optimistic lock).
            version = uow.session.scalar(
                select(Resident.version).where(Resident.id == cmd.resident_id)
            )
            if version is None:
                raise NotFoundError()
            payload["expected_version"] = cmd.expected_version or version
        trial = uow.session.begin_nested()
        try:
            outcome = _apply(uow, staff, cmd, None)
        finally:
            trial.rollback()
        if isinstance(cmd, ExOfficioCorrection):
            payload["fields"] = outcome.fields
        draft = PendingApproval(
            action=_DRAFT_ACTIONS[type(cmd)],
            resident_ids=ids,
            payload=payload,
            draft_values=values,
            status=rules.ApprovalStatus.PENDING.value,
            requested_by=staff,
            requested_at=uow.clock.now(),
        )
        uow.session.add(draft)
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.request_ex_officio",
            subjects=ids,
            detail={
                "approval_id": draft.id,
                "kind": payload["kind"],
                "change_reason": payload["change_reason"],
                "fields": payload["fields"],
            },
        )
        uow.commit()
    return draft.id


def _decide(uow: UnitOfWork, cmd: Decision, actions: Collection[str]) -> PendingApproval:
    """The pending row ``cmd`` decides, if it is one of ``actions`` (drafts or requests:
    the other kind is not found here), at the version the approver looked at."""
    row = uow.session.get(PendingApproval, cmd.approval_id)
    if row is None or row.action not in actions:
        raise NotFoundError()
    if cmd.expected_version is not None and cmd.expected_version != row.version:
        raise ConflictError()
    rules.check_pending(row.status)
    return row


@authorised(Permission.REGISTRY_APPROVE)
def approve_ex_officio(uow: UnitOfWork, actor: Actor, cmd: Decision) -> Recorded:
    """決裁 (確定) of a draft by someone other than its author (REG-CTRL-11; the database
    refuses self-approval too): the change is applied with ``recorded_by`` = the approver
    and ``approval_id`` = the draft, and the proposed values leave the draft."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_APPROVE, "registry.approve_ex_officio")
    rules.check_draft_verified(cmd.verified)
    with uow, _translated():
        draft = _decide(uow, cmd, _DRAFT_ACTIONS.values())
        rules.check_approver(draft.requested_by, staff)
        request = _undraft(draft.payload, draft.draft_values or {})
        draft.status = rules.ApprovalStatus.APPROVED.value
        draft.approved_by = staff
        draft.approved_at = uow.clock.now()
        draft.draft_values = None
        # The draft row first: a second approver racing this one fails here, before any
        # history is written.
        uow.session.flush()
        outcome = _apply(uow, staff, request, draft.id)
        if draft.resident_ids != outcome.resident_ids:
            draft.resident_ids = outcome.resident_ids
        audit.record(
            uow,
            actor,
            action="registry.approve_ex_officio",
            subjects=[*outcome.resident_ids, *outcome.household_ids],
            detail={
                "approval_id": draft.id,
                "kind": draft.payload["kind"],
                "change_reason": draft.payload["change_reason"],
                "fields": outcome.fields or draft.payload["fields"],
            },
        )
        for event in outcome.events:
            uow.emit(event)
        uow.commit()
    return Recorded(tuple(outcome.resident_ids), tuple(outcome.household_ids))


@authorised(Permission.REGISTRY_APPROVE)
def reject_ex_officio(uow: UnitOfWork, actor: Actor, cmd: Decision) -> None:
    """破棄 of a draft: nothing reaches the registry and the proposed values are dropped."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_APPROVE, "registry.reject_ex_officio")
    with uow, _translated():
        draft = _decide(uow, cmd, _DRAFT_ACTIONS.values())
        draft.status = rules.ApprovalStatus.REJECTED.value
        draft.rejected_by = staff
        draft.rejected_at = uow.clock.now()
        draft.draft_values = None
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.reject_ex_officio",
            subjects=list(draft.resident_ids),
            detail={
                "approval_id": draft.id,
                "kind": draft.payload["kind"],
                "change_reason": draft.payload["change_reason"],
            },
        )
        uow.commit()


# ---------------------------------------------------------------------------------------
# Requests approved before they run: 公用・第三者請求 (REG-CTRL-10), 一括出力 (REG-CTRL-36)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DisclosureRequest(_Redacted):
    """A request for 住民票の写し by someone other than 本人等 (法第12条の2, 第12条の3): who
    asks (機関名 or 氏名, and for a 特定事務受任者 the office), on which provision, for which
    purpose, and which identity documents the counter checked. Served only after a second
    person approves it, by :func:`issue_certificate` with the approval's id."""

    resident_ids: tuple[uuid.UUID, ...]
    requester_type: RequesterType
    legal_basis: LegalBasis
    requester: str
    purpose: str
    identification: Identification | None = None


@dataclass(frozen=True, repr=False)
class BulkExportRequest(_Redacted):
    """Prior approval of one bulk export (``queries.export_residents``) by the 管理責任者:
    what it is for, asked by the person who will run it."""

    purpose: str


def _request(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    use: ApprovedUse,
    ids: Sequence[uuid.UUID],
    payload: dict[str, Any],
    audit_detail: dict[str, Any],
    staff: uuid.UUID,
) -> int:
    with uow:
        row = PendingApproval(
            action=use.value,
            resident_ids=list(ids),
            payload=payload,
            status=rules.ApprovalStatus.PENDING.value,
            requested_by=staff,
            requested_at=uow.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action=action,
            subjects=list(ids),
            detail={"approval_id": row.id, **audit_detail},
        )
        uow.commit()
    return row.id


@authorised(Permission.REGISTRY_ISSUE_CERTIFICATE)
def request_disclosure(uow: UnitOfWork, actor: Actor, cmd: DisclosureRequest) -> int:
    """受付 of a 公用請求 / 第三者請求 / 職務上請求 (REG-CTRL-10, OQ-13): the legal basis must
    fit the requester (rules.check_legal_basis), the purpose and requester are recorded for
    the approver, the identity check as for any request. Returns the approval's id (承認番号).
    The audit row has the codes only; the free text stays on the request row."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_ISSUE_CERTIFICATE, "registry.request_disclosure"
    )
    if not cmd.resident_ids:
        raise _invalid("resident_ids", "請求の対象者を選んでください。")
    if not cmd.requester.strip():
        raise _error(RegistryError.PURPOSE_REQUIRED, "requester")
    rules.check_legal_basis(cmd.requester_type, cmd.legal_basis, cmd.purpose)
    checked = rules.check_identification(cmd.identification)
    with uow:
        known = uow.session.scalar(
            select(func.count()).select_from(Resident).where(Resident.id.in_(cmd.resident_ids))
        )
    if known != len(set(cmd.resident_ids)):
        raise NotFoundError()
    codes = {
        "requester_type": cmd.requester_type.value,
        "legal_basis": cmd.legal_basis.value,
        **rules.identification_detail(checked),
    }
    return _request(
        uow,
        actor,
        "registry.request_disclosure",
        ApprovedUse.DISCLOSURE,
        cmd.resident_ids,
        {
            "kind": "disclosure_request",
            **codes,
            "requester": cmd.requester.strip(),
            "purpose": cmd.purpose.strip(),
        },
        codes,
        staff,
    )


@authorised(Permission.REGISTRY_EXPORT)
def request_bulk_export(uow: UnitOfWork, actor: Actor, cmd: BulkExportRequest) -> int:
    """申請 of one bulk export for the 管理責任者's prior approval (REG-CTRL-36)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_EXPORT, "registry.request_bulk_export")
    if not cmd.purpose.strip():
        raise _error(RegistryError.PURPOSE_REQUIRED, "purpose")
    return _request(
        uow,
        actor,
        "registry.request_bulk_export",
        ApprovedUse.BULK_EXPORT,
        (),
        {"kind": "bulk_export", "purpose": cmd.purpose.strip()},
        {},
        staff,
    )


@dataclass(frozen=True, repr=False)
class BrowsingRequest(_Redacted):
    """閲覧の申出 / 請求 (法第11条, 第11条の2): who, on which provision, for what, and the
    scope to be viewed. Viewed only once a second person approves it, and then only within
    that scope (``queries.browsing_list``; REG-CTRL-09)."""

    legal_basis: BrowsingBasis
    requester: str
    purpose: str
    scope: BrowsingScope
    identification: Identification | None = None


@authorised(Permission.REGISTRY_BROWSING)
def request_browsing(uow: UnitOfWork, actor: Actor, cmd: BrowsingRequest) -> int:
    """受付 of a 閲覧: the scope's 町字 must be in the address master; the request row keeps
    申出者, 利用目的, the provision and the scope for the approver and for the viewing.
    Returns the approval's id (承認番号)."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_BROWSING, "registry.request_browsing")
    rules.check_browsing_request(cmd.scope, cmd.requester, cmd.purpose)
    checked = rules.check_identification(cmd.identification)
    codes = sorted(set(cmd.scope.town_area_codes))
    with uow:
        known = uow.session.scalar(
            select(func.count()).select_from(TownArea).where(TownArea.code.in_(codes))
        )
    if known != len(codes):
        raise _error(RegistryError.BROWSING_SCOPE_INVALID, "town_area_codes")
    scope = {
        "town_area_codes": codes,
        "min_age": cmd.scope.min_age,
        "max_age": cmd.scope.max_age,
        "sex": cmd.scope.sex,
    }
    detail = {
        "legal_basis": cmd.legal_basis.value,
        "scope": scope,
        **rules.identification_detail(checked),
    }
    return _request(
        uow,
        actor,
        "registry.request_browsing",
        ApprovedUse.BROWSING,
        (),
        {
            "kind": "browsing_request",
            **detail,
            "requester": cmd.requester.strip(),
            "purpose": cmd.purpose.strip(),
        },
        detail,
        staff,
    )


@authorised(Permission.REGISTRY_APPROVE)
def approve_request(uow: UnitOfWork, actor: Actor, cmd: Decision) -> None:
    """決裁 of a request by someone other than the person who received it (the database
    refuses self-approval too). Nothing runs yet: the approval is consumed by the run."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_APPROVE, "registry.approve_request")
    with uow, _translated():
        row = _decide(uow, cmd, rules.REQUEST_ACTIONS)
        rules.check_approver(row.requested_by, staff)
        row.status = rules.ApprovalStatus.APPROVED.value
        row.approved_by = staff
        row.approved_at = uow.clock.now()
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.approve_request",
            subjects=list(row.resident_ids),
            detail={"approval_id": row.id, "kind": row.payload["kind"]},
        )
        uow.commit()


@authorised(Permission.REGISTRY_APPROVE)
def reject_request(uow: UnitOfWork, actor: Actor, cmd: Decision) -> None:
    """不承認: the request can never be served."""
    staff = _staff_id(uow, actor, Permission.REGISTRY_APPROVE, "registry.reject_request")
    with uow, _translated():
        row = _decide(uow, cmd, rules.REQUEST_ACTIONS)
        row.status = rules.ApprovalStatus.REJECTED.value
        row.rejected_by = staff
        row.rejected_at = uow.clock.now()
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.reject_request",
            subjects=list(row.resident_ids),
            detail={"approval_id": row.id, "kind": row.payload["kind"]},
        )
        uow.commit()


def _use_approval(
    uow: UnitOfWork,
    actor: Actor,
    approval_id: int | None,
    use: ApprovedUse,
    wanted: Sequence[uuid.UUID],
) -> PendingApproval:
    """Consume an approval inside the caller's transaction (row lock: two runs racing for
    one approval cannot both pass). Rolled back with the run if the run fails."""
    row = (
        None
        if approval_id is None
        else uow.session.scalar(
            select(PendingApproval).where(PendingApproval.id == approval_id).with_for_update()
        )
    )
    rules.check_approval_use(
        use=use,
        action=None if row is None else row.action,
        status=None if row is None else row.status,
        used=row is not None and row.used_at is not None,
        covered=() if row is None else row.resident_ids,
        wanted=wanted,
    )
    assert row is not None
    row.used_at = uow.clock.now()
    row.used_by = actor.user_id
    uow.session.flush()
    return row


# ---------------------------------------------------------------------------------------
# 支援措置 (OQ-02)
# ---------------------------------------------------------------------------------------


@authorised(Permission.REGISTRY_MANAGE_PROTECTION)
def register_protection_measure(
    uow: UnitOfWork, actor: Actor, cmd: ProtectionMeasureRequest
) -> ProtectionRegistered:
    """支援措置 for the 申出者 and those protected with them, one row each under one case;
    from ``valid_from`` their records are withheld as rules.protection_decision says."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_MANAGE_PROTECTION, "registry.register_protection_measure"
    )
    protected = [cmd.applicant_id, *cmd.accompanying_ids]
    valid_until = cmd.valid_until or rules.protection_period_end(cmd.valid_from)
    with uow, _translated():
        if len(set(protected)) != len(protected):
            raise _invalid("accompanying_ids", "同じ方が2回指定されています。")
        if cmd.requested_on > uow.clock.business_date():
            raise _error(RegistryError.NOTIFIED_ON_IN_FUTURE, "requested_on")
        rules.check_protection_period(cmd.valid_from, valid_until)
        try:
            scope = sorted({ProtectedUse(u).value for u in cmd.scope})
        except ValueError:
            raise _invalid("scope", "支援措置の対象の指定が正しくありません。") from None
        if not scope:
            raise _invalid("scope", "支援措置の対象を1つ以上指定してください。")
        for no in cmd.offender_addressee_nos:
            if not 0 < no < 10**rules.ADDRESSEE_NO_MAX_DIGITS:
                raise _error(RegistryError.INVALID_ADDRESSEE_NO, "offender_addressee_nos")
        for rid in sorted(protected, key=str):
            _claim_resident(uow, rid)
        case_id = uuid.uuid4()
        now = uow.clock.now()
        measures = [
            ProtectionMeasure(
                id=uuid.uuid4(),
                case_id=case_id,
                resident_id=rid,
                applicant=rid == cmd.applicant_id,
                offender_addressee_nos=list(cmd.offender_addressee_nos),
                scope=scope,
                requested_on=cmd.requested_on,
                valid_from=cmd.valid_from,
                valid_until=valid_until,
                provisional=cmd.provisional,
                registered_by=staff,
                registered_at=now,
            )
            for rid in protected
        ]
        uow.session.add_all(measures)
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.register_protection_measure",
            subjects=protected,
            detail={
                "case_id": str(case_id),
                "scope": scope,
                "provisional": cmd.provisional,
                "offenders": len(cmd.offender_addressee_nos),
            },
        )
        for m in measures:
            uow.emit(
                ProtectionMeasureStarted(
                    measure_id=m.id,
                    resident_id=m.resident_id,
                    valid_from=m.valid_from,
                    provisional=m.provisional,
                )
            )
        uow.commit()
    return ProtectionRegistered(case_id, tuple(m.id for m in measures))


@authorised(Permission.REGISTRY_MANAGE_PROTECTION)
def end_protection_measure(uow: UnitOfWork, actor: Actor, cmd: ProtectionMeasureEnd) -> None:
    """End a 支援措置 explicitly (the end of its period does not: rules.protection_decision)."""
    staff = _staff_id(
        uow, actor, Permission.REGISTRY_MANAGE_PROTECTION, "registry.end_protection_measure"
    )
    with uow, _translated():
        if cmd.end_reason not in PROTECTION_END_REASONS:
            raise _invalid("end_reason", "終了理由の指定が正しくありません。")
        measure = uow.session.get(ProtectionMeasure, cmd.measure_id)
        if measure is None:
            raise NotFoundError()
        if cmd.expected_version is not None and cmd.expected_version != measure.version:
            raise ConflictError()
        if measure.ended_on is not None or cmd.ended_on < measure.valid_from:
            raise _error(RegistryError.PROTECTION_MEASURE_PERIOD_INVALID, "ended_on")
        measure.ended_on = cmd.ended_on
        measure.ended_by = staff
        measure.end_reason = cmd.end_reason
        uow.session.flush()
        audit.record(
            uow,
            actor,
            action="registry.end_protection_measure",
            subjects=[measure.resident_id],
            detail={
                "measure_id": str(measure.id),
                "case_id": str(measure.case_id),
                "end_reason": cmd.end_reason,
            },
        )
        uow.emit(
            ProtectionMeasureEnded(
                measure_id=measure.id,
                resident_id=measure.resident_id,
                ended_on=cmd.ended_on,
                end_reason=cmd.end_reason,
            )
        )
        uow.commit()


# ---------------------------------------------------------------------------------------
# Import of the synthetic town (set-based)
# ---------------------------------------------------------------------------------------

# synth prints 「12番5号」 and keeps the 丁目 apart; the registry's lot is unique per 町字,
# so it is the printed lot with its 丁目 (「2丁目12番5号」), in both statements below.

_IMPORT_MAPS = (
    # synth id → registry id, for every table the persons point at.
    "CREATE TEMP TABLE import_address ON COMMIT DROP AS"
    " SELECT a.id AS synth_id, ra.id AS address_id FROM synth.address a"
    " JOIN synth.town_area sta ON sta.id = a.town_area_id"
    " JOIN registry.town_area rta ON rta.code = lpad(sta.code, 6, '0')"
    " JOIN registry.address ra ON ra.town_area_id = rta.id"
    " AND ra.lot = (CASE WHEN a.chome IS NULL THEN a.lot ELSE a.chome || '丁目' || a.lot END)",
    # Numbers are handed out in synth id order: row_number() picks the n-th issued number.
    "CREATE TEMP TABLE import_household ON COMMIT DROP AS"
    " SELECT h.id AS synth_id, gen_random_uuid() AS household_id, n.no AS household_no,"
    " h.formed_on, h.dissolved_on"
    " FROM (SELECT id, formed_on, dissolved_on, row_number() OVER (ORDER BY id) AS rn"
    " FROM synth.household) h"
    " JOIN unnest(CAST(:household_nos AS bigint[])) WITH ORDINALITY AS n(no, rn)"
    " ON n.rn = h.rn",
    "CREATE TEMP TABLE import_person ON COMMIT DROP AS"
    " SELECT p.id AS synth_id, gen_random_uuid() AS resident_id, n.no AS addressee_no"
    " FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM synth.person) p"
    " JOIN unnest(CAST(:addressee_nos AS bigint[])) WITH ORDINALITY AS n(no, rn)"
    " ON n.rn = p.rn",
    "CREATE TEMP TABLE import_relationship (label text PRIMARY KEY, code text NOT NULL)"
    " ON COMMIT DROP",
    "CREATE TEMP TABLE import_key (synth_id integer PRIMARY KEY, name_key text NOT NULL,"
    " name_kana_key text NOT NULL, alias_name_key text, alias_name_kana_key text)"
    " ON COMMIT DROP",
)

_REMOVAL_ON = "coalesce(p.died_on, p.moved_out_on)"
# Columns of both history rows, as synth holds them (docs/registry-items.md, "Notes for
# the importer"). 特別永住者 is a 区分, not an 在留資格; other statuses are 中長期在留者.
_VERSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resident_id", "ip.resident_id"),
    ("recorded_at", ":now"),
    ("name", "p.name"),
    ("name_kana", "p.name_kana"),
    ("name_key", "k.name_key"),
    ("name_kana_key", "k.name_kana_key"),
    ("alias_name", "p.alias_name"),
    ("alias_name_kana", "p.alias_name_kana"),
    ("alias_name_key", "k.alias_name_key"),
    ("alias_name_kana_key", "k.alias_name_kana_key"),
    ("birth_date", "p.birth_date"),
    ("birth_date_precision", "'day'"),
    ("sex", "p.sex"),
    ("name_kana_confirmed", "false"),
    ("adult_guardianship", "false"),
    ("household_id", "ih.household_id"),
    ("relationship", "rel.code"),
    ("display_order", "p.display_order"),
    ("address_id", "ia.address_id"),
    ("building", "p.building"),
    ("became_resident_on", "p.moved_in_on"),
    ("address_set_on", "p.moved_in_on"),
    ("moved_in_on", "CASE WHEN p.moved_in_reason = 'move_in' THEN p.moved_in_on END"),
    ("moved_in_from", "p.moved_in_from"),
    (
        "registered_domicile",
        "CASE WHEN p.nationality_code IS NULL THEN coalesce(p.registered_domicile, '不明') END",
    ),
    (
        "family_register_head",
        "CASE WHEN p.nationality_code IS NULL THEN p.family_register_head END",
    ),
    ("foreign_resident", "p.nationality_code IS NOT NULL"),
    ("nationality", "p.nationality_code"),
    (
        "foreign_resident_class",
        "CASE WHEN p.nationality_code IS NULL THEN NULL"
        " WHEN p.residence_status = '特別永住者' THEN 'special_permanent_resident'"
        " ELSE 'mid_to_long_term' END",
    ),
    (
        "residence_status",
        "CASE WHEN p.residence_status = '特別永住者' THEN NULL ELSE p.residence_status END",
    ),
    ("residence_expires_on", "p.residence_expires_on"),
    (
        "became_foreign_resident_on",
        "CASE WHEN p.nationality_code IS NOT NULL THEN p.moved_in_on END",
    ),
)
_ENTRY_COLUMNS = (
    ("history_no", "1"),
    ("valid_from", "p.moved_in_on"),
    ("valid_to", _REMOVAL_ON),
    ("closed_at", f"CASE WHEN {_REMOVAL_ON} IS NOT NULL THEN :now END"),
    ("removed", "false"),
    (
        "change_reason",
        "CASE WHEN p.moved_in_reason = 'birth' THEN 'birth'"
        " WHEN p.moved_in_from = '国外' AND p.nationality_code IS NOT NULL"
        " THEN 'foreign_resident_entry'"
        " WHEN p.moved_in_from = '国外' THEN 'move_in_from_abroad'"
        " ELSE 'domestic_move_in' END",
    ),
)
_REMOVAL_COLUMNS = (
    ("history_no", "2"),
    ("valid_from", _REMOVAL_ON),
    ("valid_to", "NULL"),
    ("closed_at", "NULL"),
    ("removed", "true"),
    (
        "change_reason",
        "CASE WHEN p.died_on IS NOT NULL THEN 'death'"
        " WHEN p.moved_out_to = '国外' THEN 'move_out_abroad' ELSE 'domestic_move_out' END",
    ),
    ("planned_move_out_on", "p.moved_out_on"),
    ("planned_move_out_to", "p.moved_out_to"),
    ("moved_out_on", "p.moved_out_on"),
    ("moved_out_to", "p.moved_out_to"),
)
_VERSION_FROM = """
FROM import_person ip
JOIN synth.person p ON p.id = ip.synth_id
JOIN import_key k ON k.synth_id = p.id
JOIN import_household ih ON ih.synth_id = p.household_id
JOIN import_address ia ON ia.synth_id = p.address_id
JOIN import_relationship rel ON rel.label = p.relationship
"""


def _insert_versions(columns: Sequence[tuple[str, str]], where: str = "") -> str:
    names = ", ".join(c for c, _ in columns)
    exprs = ", ".join(e for _, e in columns)
    # Built once at import from the constant fragments above; no input reaches it.
    return f"INSERT INTO registry.resident_version ({names}) SELECT {exprs} {_VERSION_FROM} {where}"


_INSERT_TOWN_AREAS = (
    "INSERT INTO registry.town_area (code, name, name_kana, postal_code, address_style)"
    " SELECT lpad(code, 6, '0'), name, name_kana, postal_code, address_style"
    " FROM synth.town_area ORDER BY id"
)
_INSERT_ADDRESSES = (
    "INSERT INTO registry.address (town_area_id, chome, lot_no, sub_no, lot)"
    " SELECT rta.id, a.chome, a.lot_no, a.sub_no,"
    " CASE WHEN a.chome IS NULL THEN a.lot ELSE a.chome || '丁目' || a.lot END"
    " FROM synth.address a"
    " JOIN synth.town_area sta ON sta.id = a.town_area_id"
    " JOIN registry.town_area rta ON rta.code = lpad(sta.code, 6, '0')"
    " ORDER BY a.id"
)
_INSERT_HOUSEHOLDS = (
    "INSERT INTO registry.household (id, household_no, formed_on, dissolved_on, version)"
    " SELECT household_id, household_no, formed_on, dissolved_on, 1 FROM import_household"
)
_INSERT_RESIDENTS = (
    "INSERT INTO registry.resident"
    " (id, addressee_no, resident_record_code, status, created_at, version)"
    " SELECT ip.resident_id, ip.addressee_no, NULL,"
    " CASE WHEN p.died_on IS NULL AND p.moved_out_on IS NULL THEN 'current' ELSE 'removed' END,"
    " :now, 1"
    " FROM import_person ip JOIN synth.person p ON p.id = ip.synth_id"
)
_INSERT_ENTRY_VERSIONS = _insert_versions(_VERSION_COLUMNS + _ENTRY_COLUMNS)
_INSERT_REMOVAL_VERSIONS = _insert_versions(
    _VERSION_COLUMNS + _REMOVAL_COLUMNS, "WHERE p.died_on IS NOT NULL OR p.moved_out_on IS NOT NULL"
)


def _rows(uow: UnitOfWork, statement: str, params: Mapping[str, Any] | None = None) -> int:
    """Run one set-based statement; the number of rows it wrote."""
    result = cast(CursorResult[Any], uow.session.execute(text(statement), dict(params or {})))
    return result.rowcount


def _copy_rows(uow: UnitOfWork, statement: str, rows: Iterable[Sequence[object]]) -> None:
    dbapi = uow.session.connection().connection.driver_connection
    if not isinstance(dbapi, psycopg.Connection):
        raise TypeError("import_town needs the psycopg 3 driver")
    with dbapi.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _name_keys(uow: UnitOfWork) -> Iterator[tuple[object, ...]]:
    """Search keys need machi.core.text, so names pass through Python once."""
    result = uow.session.execute(
        text("SELECT id, name, name_kana, alias_name, alias_name_kana FROM synth.person")
    )
    for pid, name, kana, alias, alias_kana in result:
        yield (
            pid,
            normalize_name(name),
            normalize_kana(kana),
            None if alias is None else normalize_name(alias),
            None if alias_kana is None else normalize_kana(alias_kana),
        )


@authorised(Permission.REGISTRY_BULK_LOAD)
def import_town(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    cmd: TownImport,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the synthetic town (schema ``synth``) into an empty registry in one
    transaction: 町字, 番地, households, residents with 宛名番号 and their first versions, and
    a 除票 row for everyone who died or moved out; then each person's 個人番号
    (synth.rules.individual_number_for) sealed through the vault. Set-based SQL except for
    the name search keys and the sealing, which are per-row Python. One audit row of counts
    (the vault audits each number it stores). ``on_progress`` receives the persons whose
    numbers are stored so far. A registry that already holds residents is refused."""
    if cmd.batch < 1:
        raise ValueError("batch must be positive")
    with uow, _translated():
        s = uow.session
        # Two imports queue up here; the second then finds the first's rows and stops.
        s.execute(text("LOCK TABLE registry.town_area IN EXCLUSIVE MODE"))
        if s.scalar(
            text(
                "SELECT EXISTS (SELECT FROM registry.resident)"
                " OR EXISTS (SELECT FROM registry.town_area)"
            )
        ):
            raise DomainError(
                RegistryError.ALREADY_RESIDENT,
                "台帳に既に住民または住所辞書が登録されています。町の一括取込は空の台帳にだけ行えます。",
            )
        seed = s.scalar(text("SELECT seed FROM synth.town WHERE id = 1"))
        if seed is None:
            raise NotFoundError("取り込む合成データの町がありません。先に町を生成してください。")
        now = uow.clock.now()
        counts = s.execute(
            text(
                "SELECT (SELECT count(*) FROM synth.household),"
                " (SELECT count(*) FROM synth.person),"
                " (SELECT count(*) FROM synth.person"
                "   WHERE died_on IS NOT NULL OR moved_out_on IS NOT NULL)"
            )
        ).one()
        households, persons, removed = (int(c) for c in counts)
        town_areas = _rows(uow, _INSERT_TOWN_AREAS)
        addresses = _rows(uow, _INSERT_ADDRESSES)
        household_nos = _issue_numbers(
            uow, Household.household_no, "registry.household_no", households
        )
        addressee_nos = _issue_numbers(uow, Resident.addressee_no, "registry.addressee_no", persons)
        numbers = {"household_nos": household_nos, "addressee_nos": addressee_nos}
        for statement in _IMPORT_MAPS:
            clause = text(statement)
            s.execute(clause, {k: v for k, v in numbers.items() if k in clause._bindparams})
        labels = s.scalars(text("SELECT DISTINCT relationship FROM synth.person")).all()
        _copy_rows(
            uow,
            "COPY import_relationship (label, code) FROM STDIN",
            ((label, rules.parse_relationship(label)) for label in labels),
        )
        _copy_rows(
            uow,
            "COPY import_key (synth_id, name_key, name_kana_key, alias_name_key,"
            " alias_name_kana_key) FROM STDIN",
            list(_name_keys(uow)),
        )
        _rows(uow, _INSERT_HOUSEHOLDS)
        _rows(uow, _INSERT_RESIDENTS, {"now": now})
        versions = _rows(uow, _INSERT_ENTRY_VERSIONS, {"now": now})
        versions += _rows(uow, _INSERT_REMOVAL_VERSIONS, {"now": now})
        stored = 0
        last = 0
        while True:
            batch = s.execute(
                text(
                    "SELECT synth_id, resident_id FROM import_person WHERE synth_id > :last"
                    " ORDER BY synth_id LIMIT :n"
                ),
                {"last": last, "n": cmd.batch},
            ).all()
            if not batch:
                break
            stored += vault.store_first_numbers(
                uow,
                actor,
                keys,
                [(rid, individual_number_for(seed, synth_id)) for synth_id, rid in batch],
            )
            last = batch[-1][0]
            # Sealed rows are not needed again: keep memory flat over a large town.
            s.expunge_all()
            if on_progress is not None:
                on_progress(stored)
        for table in (
            "import_key",
            "import_relationship",
            "import_person",
            "import_household",
            "import_address",
        ):
            s.execute(text(f"DROP TABLE {table}"))
        report = ImportReport(
            town_areas=town_areas,
            addresses=addresses,
            households=households,
            residents=persons,
            current_residents=persons - removed,
            removed_records=removed,
            versions=versions,
            individual_numbers=stored,
        )
        audit.record(
            uow,
            actor,
            action="registry.import_town",
            detail={
                "town_areas": town_areas,
                "addresses": addresses,
                "households": households,
                "residents": persons,
                "removed_records": removed,
                "versions": versions,
                "individual_numbers": stored,
            },
        )
        uow.commit()
    return report


# ---------------------------------------------------------------------------------------
# Certificates (住民票の写し・記載事項証明書・除票の写し)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateRequest:
    """One request at the counter. ``resident_ids`` are the persons asked for (世帯一部);
    with ``options.whole_household`` the whole household of the first is printed.
    ``requester_addressee_no`` is the requester's 宛名番号 when known (a resident), which
    lets a 支援措置 recognise a known 加害者."""

    resident_ids: tuple[uuid.UUID, ...]
    kind: CertificateKind
    options: CertificateOptions
    requester_type: RequesterType
    requester_resident_id: uuid.UUID | None = None
    requester_addressee_no: int | None = None
    officer_reviewed: bool = False
    place: str = "本庁"
    # Who asked and which identity documents the counter checked (REG-CTRL-04).
    identification: Identification | None = None
    # 承認番号 of the approved DisclosureRequest, for requesters other than 本人等 (REG-CTRL-10).
    approval_id: int | None = None


@dataclass(frozen=True)
class IssuingOffice:
    """What the issuing municipality prints and where verification happens."""

    municipality: str
    local_government_code: str
    mayor_title: str
    mayor_name: str
    verify_base_url: str
    demo: bool

    @classmethod
    def from_settings(cls, s: Settings) -> IssuingOffice:
        return cls(
            municipality=s.municipality_name,
            local_government_code=s.local_government_code,
            mayor_title=s.mayor_title,
            mayor_name=s.mayor_name,
            verify_base_url=s.public_base_url,
            demo=s.demo,
        )


@dataclass(frozen=True)
class IssuedCertificate:
    issuance_no: str
    verification_code: str
    pdf: bytes = field(repr=False)


@dataclass(frozen=True)
class VerificationResult:
    """What anyone holding a paper may learn: whether it was issued, what kind and when.
    Nothing about the persons on it."""

    valid: bool
    kind_label: str | None = None
    issued_on: date | None = None
    voided: bool = False


def _address_text(uow: UnitOfWork, address_id: int) -> str:
    town, lot = uow.session.execute(
        select(TownArea.name, Address.lot)
        .join(Address, Address.town_area_id == TownArea.id)
        .where(Address.id == address_id)
    ).one()
    return f"{town}{lot}"


def _printed(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    v: ResidentVersion,
    options: CertificateOptions,
) -> CertificatePerson:
    number = None
    if options.include_individual_number:
        number = vault.number_for_certificate(uow, actor, keys, v.resident_id)
    removal = None
    if v.removed:
        removal = RemovalFacts(
            removed_on=v.valid_from,
            reason=ChangeReason(v.change_reason),
            notified_on=v.notified_on,
            destination=v.moved_out_to or v.planned_move_out_to,
        )
    return CertificatePerson(
        name=v.name,
        name_kana=v.name_kana,
        birth_date=v.birth_date,
        sex=v.sex,
        address_set_on=v.address_set_on,
        alias_name=v.alias_name,
        relationship=v.relationship if options.include_relationship else None,
        became_resident_on=None if v.foreign_resident else v.became_resident_on,
        became_foreign_resident_on=v.became_foreign_resident_on if v.foreign_resident else None,
        previous_address=v.moved_in_from,
        address_notified_on=v.notified_on if v.moved_in_from else None,
        registered_domicile=v.registered_domicile if options.include_registered_domicile else None,
        family_register_head=(
            v.family_register_head if options.include_registered_domicile else None
        ),
        individual_number=number,
        resident_record_code=(
            v.resident_record_code if options.include_resident_record_code else None
        ),
        removal=removal,
    )


def _protection_measures(
    uow: UnitOfWork, resident_ids: Sequence[uuid.UUID]
) -> list[rules.ProtectionMeasureFacts]:
    rows = uow.session.scalars(
        select(ProtectionMeasure).where(ProtectionMeasure.resident_id.in_(resident_ids))
    ).all()
    cases: dict[uuid.UUID, set[uuid.UUID]] = {}
    for m in uow.session.scalars(
        select(ProtectionMeasure).where(ProtectionMeasure.case_id.in_({r.case_id for r in rows}))
    ):
        cases.setdefault(m.case_id, set()).add(m.resident_id)
    return [
        rules.ProtectionMeasureFacts(
            resident_id=m.resident_id,
            protected_ids=frozenset(cases.get(m.case_id, {m.resident_id})),
            offender_addressee_nos=frozenset(m.offender_addressee_nos),
            scope=frozenset(rules.ProtectedUse(s) for s in m.scope),
            valid_from=m.valid_from,
            valid_until=m.valid_until,
            ended_on=m.ended_on,
            provisional=m.provisional,
        )
        for m in rows
    ]


@authorised(Permission.REGISTRY_ISSUE_CERTIFICATE)
def issue_certificate(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    office: IssuingOffice,
    cmd: CertificateRequest,
) -> IssuedCertificate:
    """交付 (住基法 第12条, 第15条の4): the document as the registry stands today, its
    issuance row (flags of what was printed, a hash of the verification code), one audit
    row, and the PDF. A 支援措置 that blocks the request refuses it; the refusal and an
    alert for the privacy officer are recorded in a transaction of their own (REG-CTRL-33)."""
    if not cmd.resident_ids:
        raise _invalid("resident_ids", "交付する人を選んでください。")
    rules.check_identification(cmd.identification)
    today = uow.clock.business_date()
    use = (
        rules.ProtectedUse.REMOVED_RECORD_COPY
        if cmd.kind is CertificateKind.REMOVED_RECORD_COPY
        else rules.ProtectedUse.RESIDENT_RECORD_COPY
    )
    with uow:
        first = _open_version(uow, cmd.resident_ids[0])
        if cmd.kind is CertificateKind.REMOVED_RECORD_COPY:
            if not first.removed:
                raise _error(RegistryError.NOT_RESIDENT)
            printed = [first]
        elif first.removed:
            raise _error(RegistryError.NOT_RESIDENT)
        elif cmd.options.whole_household:
            printed = _members(uow, first.household_id)
        else:
            printed = [_open_version(uow, rid) for rid in cmd.resident_ids]
            if any(p.removed or p.household_id != first.household_id for p in printed):
                raise _invalid("resident_ids", "同じ世帯の住民を選んでください。")
        ids = [p.resident_id for p in printed]
        if rules.needs_approval(cmd.requester_type):
            _use_approval(uow, actor, cmd.approval_id, ApprovedUse.DISCLOSURE, ids)
        request = rules.ProtectionRequest(
            use=use,
            channel=rules.IssuanceChannel.COUNTER,
            requester_type=cmd.requester_type,
            # 本人 is the person asked for, whether or not the clerk typed it twice.
            requester_resident_id=cmd.requester_resident_id
            or (cmd.resident_ids[0] if cmd.requester_type is RequesterType.SELF else None),
            requester_addressee_no=cmd.requester_addressee_no,
            on=today,
            officer_reviewed=cmd.officer_reviewed,
        )
        measures = _protection_measures(uow, ids)
        decisions = [rules.protection_decision(m, request) for m in measures]
        blocked = any(d.blocked for d in decisions)
        alert = any(d.alert_staff for d in decisions)
        if not blocked:
            issued = _issue(uow, actor, keys, office, cmd, printed, first, ids, today)
    if blocked:
        # Recorded once this unit of work has rolled back, in a transaction of its own,
        # so the refusal and the officer's alert outlive the refused action.
        audit.record_alone(
            uow,
            actor,
            action="registry.issue_certificate",
            subjects=ids,
            outcome="denied",
            detail={"reason": "protection_measure", "alert_privacy_officer": alert},
        )
        code = RegistryError.PROTECTION_MEASURE_BLOCKS_ISSUANCE
        raise DomainError(code, MESSAGES[code], status=403)
    return issued


def _issue(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    office: IssuingOffice,
    cmd: CertificateRequest,
    printed: list[ResidentVersion],
    first: ResidentVersion,
    ids: list[uuid.UUID],
    today: date,
) -> IssuedCertificate:
    """The issuing half of :func:`issue_certificate`, inside its open unit of work."""

    issued_at = uow.clock.now()
    serial = uow.session.scalar(
        text("SELECT nextval(pg_get_serial_sequence('registry.certificate_issuance', 'id'))")
    )
    issuance_no = f"{today:%Y%m%d}-{office.local_government_code}-{serial:08d}"
    head = next((p for p in printed if p.relationship == rules.Relationship.HEAD.value), None)
    if head is None:
        head_row = uow.session.scalar(
            select(ResidentVersion).where(
                ResidentVersion.household_id == first.household_id,
                ResidentVersion.relationship == rules.Relationship.HEAD.value,
                ResidentVersion.valid_to.is_(None),
                ResidentVersion.superseded_at.is_(None),
            )
        )
        head_name = head_row.name if head_row else None
    else:
        head_name = head.name
    draft = build_document(
        kind=cmd.kind,
        options=cmd.options,
        municipality=office.municipality,
        mayor_title=office.mayor_title,
        mayor_name=office.mayor_name,
        issuance_no=issuance_no,
        issued_on=today,
        address=office.municipality + _address_text(uow, first.address_id),
        building=first.building,
        household_head=head_name,
        persons=[_printed(uow, actor, keys, p, cmd.options) for p in printed],
        verify_base_url=office.verify_base_url,
        demo=office.demo,
    )
    document = seal(draft, keys.derive("certificate-verification"))
    assert document.verification_code is not None
    uow.session.add(
        CertificateIssuance(
            id=serial,
            issuance_no=issuance_no,
            kind=cmd.kind.value,
            resident_ids=ids,
            household_form=cmd.options.whole_household,
            issued_at=issued_at,
            issued_by=actor.user_id,
            channel=rules.IssuanceChannel.COUNTER.value,
            requester_type=cmd.requester_type.value,
            place=cmd.place,
            terminal=actor.terminal,
            copies=sheet_count(document),
            includes_registered_domicile=cmd.options.include_registered_domicile,
            includes_relationship=cmd.options.include_relationship,
            includes_individual_number=cmd.options.include_individual_number,
            includes_resident_record_code=cmd.options.include_resident_record_code,
            includes_foreign_items=cmd.options.include_foreign_items,
            verification_code_hash=verification_code_hash(document.verification_code),
        )
    )
    audit.record(
        uow,
        actor,
        action="registry.issue_certificate",
        subjects=ids,
        detail={
            "issuance_no": issuance_no,
            "kind": cmd.kind.value,
            "requester_type": cmd.requester_type.value,
            **rules.identification_detail(cmd.identification),  # type: ignore[arg-type]
            **({} if cmd.approval_id is None else {"approval_id": cmd.approval_id}),
            "includes": [f.name for f in fields(cmd.options) if getattr(cmd.options, f.name)],
        },
    )
    pdf = render_pdf(document)
    uow.commit()
    return IssuedCertificate(issuance_no, document.verification_code, pdf)


@open_action
def verify_certificate(uow: UnitOfWork, *, issuance_no: str, code: str) -> VerificationResult:
    """Anyone holding a paper checks it against the issuance log by 発行番号 and code (the
    QR carries both). The answer names no person; every check is audited (ids only)."""
    with uow:
        row = uow.session.scalar(
            select(CertificateIssuance).where(CertificateIssuance.issuance_no == issuance_no[:80])
        )
        valid = (
            row is not None
            and row.verification_code_hash is not None
            and verification_code_matches(code, row.verification_code_hash)
        )
        audit.record(
            uow,
            Actor.anonymous("verify"),
            action="registry.verify_certificate",
            outcome="ok" if valid else "denied",
            detail={"issuance_no_found": row is not None, "valid": valid},
        )
        uow.commit()
    if not valid or row is None:
        return VerificationResult(valid=False)
    return VerificationResult(
        valid=row.voided_at is None,
        kind_label=CertificateKind(row.kind).label,
        issued_on=row.issued_at.astimezone(JST).date(),
        voided=row.voided_at is not None,
    )


# ---------------------------------------------------------------------------------------
# Bulk 異動 (CSV layer: machi.registry.csvio; layout: docs/registry-csv.md)
# Appended section: its imports stay here so the section reads and moves as one piece.
# ---------------------------------------------------------------------------------------

from dataclasses import replace as _replace  # noqa: E402

from machi.privacy.access import require as _require  # noqa: E402

__all__ += ["BulkReport", "ParsedRow", "RowProblem", "bulk_changes"]


@dataclass(frozen=True)
class RowProblem:
    """Why a row of a bulk file was not applied: the row (the file's line number), the
    column (its label in the file; empty for the row as a whole) and a Japanese reason.
    Never the cell's value."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True, repr=False)
class ParsedRow(_Redacted):
    """One 異動 read from a bulk file, spanning ``rows`` (several rows when persons move
    together). ``command`` is None when the rows had ``problems``. What the file cannot
    know is resolved by :func:`bulk_changes`: ``address_id`` from ``town_area_code`` +
    ``lot``, resident ids from ``addressee_nos`` (with ``relationships`` in the same
    order for a 転居 into a new household); the command carries placeholders for them.
    ``columns`` maps a service field (``DomainError.field``) to the file's column."""

    rows: tuple[int, ...]
    command: MoveIn | MoveWithin | Death | None
    town_area_code: str | None = None
    lot: str | None = None
    addressee_nos: tuple[int, ...] = ()
    relationships: tuple[str, ...] | None = None
    problems: tuple[RowProblem, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkReport:
    """Counts by 異動 (``changes``) and by row, the problems of the refused rows in row
    order, and what each applied 異動 recorded."""

    changes: int
    applied: int
    rejected: int
    rows: int
    applied_rows: int
    rejected_rows: int
    problems: tuple[RowProblem, ...]
    recorded: tuple[Recorded, ...]


_BULK_ACTION = "registry.bulk_changes"


def _bulk_address(uow: UnitOfWork, town_area_code: str, lot: str) -> int:
    """The address master id of 町字コード + 番地, compared as queries.find_address does
    (width and spaces folded): a bulk file never invents an address."""
    ids = uow.session.scalars(
        select(Address.id)
        .join(TownArea, TownArea.id == Address.town_area_id)
        .where(
            TownArea.code == town_area_code,
            func.replace(func.replace(Address.lot, " ", ""), "　", "") == normalize_name(lot),
        )
    ).all()
    if len(ids) != 1:
        raise _error(RegistryError.ADDRESS_NOT_IN_MASTER, "address_id")
    return ids[0]


def _bulk_resident(uow: UnitOfWork, addressee_no: int) -> uuid.UUID:
    found = uow.session.scalar(select(Resident.id).where(Resident.addressee_no == addressee_no))
    if found is None:
        raise _invalid("resident_ids", "この宛名番号の住民記録がありません。")
    return found


def _bulk_command(uow: UnitOfWork, parsed: ParsedRow) -> MoveIn | MoveWithin | Death:
    """The parsed command with the ids it refers to, read in a short transaction of its
    own (the command then claims what it changes, so a change in between is a conflict)."""
    cmd = parsed.command
    assert cmd is not None
    with uow:
        address_id = None
        if parsed.town_area_code is not None:
            address_id = _bulk_address(uow, parsed.town_area_code, parsed.lot or "")
        ids = tuple(_bulk_resident(uow, n) for n in parsed.addressee_nos)
    if isinstance(cmd, MoveIn):
        assert address_id is not None
        return _replace(cmd, address_id=address_id)
    if isinstance(cmd, MoveWithin):
        assert address_id is not None
        relationships = (
            None
            if parsed.relationships is None
            else dict(zip(ids, parsed.relationships, strict=True))
        )
        return _replace(
            cmd, resident_ids=ids, address_id=address_id, new_relationships=relationships
        )
    (resident_id,) = ids
    return _replace(cmd, resident_id=resident_id)


def _bulk_apply(uow: UnitOfWork, actor: Actor, cmd: MoveIn | MoveWithin | Death) -> Recorded:
    if isinstance(cmd, MoveIn):
        return move_in(uow, actor, cmd)
    if isinstance(cmd, MoveWithin):
        return move_within(uow, actor, cmd)
    return death(uow, actor, cmd)


def _bulk_refusal(parsed: ParsedRow, error: DomainError) -> tuple[RowProblem, ...]:
    """A refused 異動 blames its first row; the service does not say which person of a
    household was wrong, so the other rows point there."""
    first, *others = parsed.rows
    column = parsed.columns.get(error.field or "", "")
    return (
        RowProblem(first, column, error.message),
        *(
            RowProblem(
                row, "", f"同じ異動の {first}行目が取り込めなかったため、この行も取り込みません。"
            )
            for row in others
        ),
    )


def _bulk_counts(
    outcomes: Sequence[tuple[ParsedRow, Recorded | None]], total: int
) -> dict[str, int]:
    applied = [p for p, r in outcomes if r is not None]
    rejected = [p for p, r in outcomes if r is None]
    return {
        "changes": total,
        "processed": len(outcomes),
        "applied": len(applied),
        "rejected": len(rejected),
        "applied_rows": sum(len(p.rows) for p in applied),
        "rejected_rows": sum(len(p.rows) for p in rejected),
    }


@authorised(Permission.REGISTRY_BULK_LOAD)
def bulk_changes(
    uow: UnitOfWork,
    actor: Actor,
    rows: Sequence[ParsedRow],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Apply a bulk 異動 file (parsed by ``machi.registry.csvio``) one 異動 at a time.

    Each good 異動 goes through its own command (``move_in``, ``move_within``,
    ``death``) in a fresh unit of work, so it is atomic with its history, audit row and
    events exactly as at the counter. A 異動 whose rows had problems, whose 宛名番号 or
    address is unknown, or which its command refuses (any ``DomainError``) is reported
    with its reason and changes nothing; the others still apply. Rows sharing a 世帯キー
    are one 異動 and stand or fall together. One summary audit row of counts closes the
    run (``failed`` if the run broke off, with what was done until then).

    Rights: the declared ``registry.bulk_load`` and, because every 異動 is recorded as
    the actor's own, ``registry.record_change`` too, checked before the first row (only
    a 住民記録係長 in 住基 holds both). Like a command at the counter it needs a staff
    user (``recorded_by``). ``on_progress`` receives the number of 異動 processed."""
    _require(uow, actor, Permission.REGISTRY_RECORD_CHANGE, action=_BULK_ACTION)
    _staff_id(uow, actor, Permission.REGISTRY_RECORD_CHANGE, _BULK_ACTION)
    outcomes: list[tuple[ParsedRow, Recorded | None]] = []
    problems: list[RowProblem] = []
    try:
        for parsed in rows:
            recorded: Recorded | None = None
            if parsed.command is None:
                problems.extend(parsed.problems)
            else:
                try:
                    cmd = _bulk_command(uow.fresh(), parsed)
                    recorded = _bulk_apply(uow.fresh(), actor, cmd)
                except DomainError as e:
                    problems.extend(_bulk_refusal(parsed, e))
            outcomes.append((parsed, recorded))
            if on_progress is not None:
                on_progress(len(outcomes))
    except BaseException:
        audit.record_alone(
            uow,
            actor,
            action=_BULK_ACTION,
            outcome="failed",
            detail=_bulk_counts(outcomes, len(rows)),
        )
        raise
    counts = _bulk_counts(outcomes, len(rows))
    with uow:
        audit.record(uow, actor, action=_BULK_ACTION, detail=counts)
        uow.commit()
    return BulkReport(
        changes=counts["changes"],
        applied=counts["applied"],
        rejected=counts["rejected"],
        rows=counts["applied_rows"] + counts["rejected_rows"],
        applied_rows=counts["applied_rows"],
        rejected_rows=counts["rejected_rows"],
        problems=tuple(sorted(problems, key=lambda p: p.row)),
        recorded=tuple(r for _, r in outcomes if r is not None),
    )
