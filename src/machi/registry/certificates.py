"""住民票の写し, 住民票記載事項証明書 and 住民票の除票の写し: the printed document, its
verification code, and its rendering (HTML → PDF with WeasyPrint and the IPAex fonts).

Pure: no database, no clock, no permission check. The issuing service (``services.py``
``issue_certificate``) loads the record as of the business date, applies the 支援措置
(``rules.protection_decision``), writes the 交付履歴 row and the audit record, and calls
this module. It does not yet record which identity document the requester showed
(REG-CTRL-04 is open: docs/registry-requirements.md)::

    draft = certificates.build_document(kind=..., options=..., persons=[...], ...)
    document = certificates.seal(draft, secret)          # adds the verification code
    issuance.verification_code_hash = certificates.verification_code_hash(
        document.verification_code)                      # the code itself is not kept
    issuance.copies = certificates.sheet_count(document)  # 枚数
    pdf = certificates.render_pdf(document)

What is printed (法第7条, 標準仕様 §4): 氏名 (with フリガナ, 旧氏 or 通称 where given),
生年月日, 性別, 住所 and 方書, 住民となった年月日, 住所を定めた年月日 with its 届出日, and
転入前住所 (法第7条第8号) always; 世帯主・続柄, 本籍・筆頭者, 個人番号, 住民票コード and the
外国人住民 items only when ``CertificateOptions`` asks for them (標準仕様 §4.2 omission
switches). An item that is not asked for is left out of the document altogether — no row,
no mask, no 「省略」 — so neither the paper nor the content digest carries it. For 個人番号
that is DISP-05 / REG-CTRL-31 (seed 004 §III(1) 2 リスク2: printed only when the person
specially asks); ``CertificateDocument`` refuses to hold a number the options do not allow,
so a caller cannot print one by mistake. 除票 are issued one person per copy (標準仕様 §4.4:
個人票 only) with the 消除 facts (法第15条の3: 消除年月日, 事由, 転出先).

Not here (yet): the 個人票 form with 異動履歴 (``with_history``), 「公用」 mark, 外字, 不詳
birth dates, the choice of single items on a 記載事項証明書 beyond the four switches.

Verification code
-----------------
Each copy carries its 発行番号 and a 16-character verification code (照合番号), in text and
in a QR code that encodes ``{base_url}/certificates/verify?no={発行番号}&code={code}``::

    digest = content_digest(document)      # SHA-256 over a canonical form of what is printed
    code   = HMAC-SHA256(secret, "machi.certificate.v1" ‖ 発行番号 ‖ digest)[:80 bits]
             → Crockford base32, 4 groups of 4 (e.g. 7K3M-Q9TD-2XWB-HC4N)
    issuance log stores SHA-256(code) (``certificate_issuance.verification_code_hash``)

Two checks follow from this:

1. Anyone holding the paper (a bank, another office) enters or scans 発行番号 + code. The
   verifier looks up the 交付履歴 row by 発行番号 and compares ``verification_code_hash``
   of the entered code with the stored hash (``verification_code_matches``; constant
   time). It needs neither the PDF nor the secret, and answers only facts that are not
   personal: issued or not, voided or not, date, kind, number of persons and sheets. This
   catches invented papers and an altered 発行番号 or code: the code has 80 bits, so
   guessing one for a given 発行番号 is hopeless (the endpoint should still be rate limited).
2. If a genuine number and code are copied onto altered content, check 1 still passes.
   The municipality can then rebuild the document from the registry as recorded at the
   time of issue (``rules.in_force(as_recorded_at=issued_at)``), recompute the digest and
   the code with the secret, and compare with the stored hash: only the content that was
   issued gives the same code.

Why keyed, and why only a hash is stored: a plain digest of low-entropy personal data
(name, birth date, address) kept in the log would let anyone reading the log confirm a
guess about a person; the code stored as its hash, and computable only with the secret,
confirms nothing without the paper. Why not a random code: the HMAC binds the code to the
content, which is what makes check 2 possible, and re-rendering the same document gives
the same code. Rotating the secret does not affect check 1; check 2 for older copies needs
the secret that was current when they were issued, so retired secrets are kept (as keys
for verification only) for the issuance log's retention period.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import io
import json
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import qrcode

from machi.core.numbers import is_valid_individual_number
from machi.core.wareki import to_wareki
from machi.privacy.queries import FONT_CANDIDATES as GOTHIC_FONT_CANDIDATES
from machi.registry.rules import (
    ChangeReason,
    ForeignResidentClass,
    RecordClass,
    check_relationship,
    is_valid_resident_record_code,
    relationship_label,
)

__all__ = [
    "CODE_LENGTH",
    "GOTHIC_FONT_CANDIDATES",
    "MINCHO_FONT_CANDIDATES",
    "PERSONS_PER_SHEET",
    "CertificateDocument",
    "CertificateKind",
    "CertificateOptions",
    "CertificatePerson",
    "ForeignResidentItems",
    "RemovalFacts",
    "build_document",
    "content_digest",
    "normalize_verification_code",
    "qr_data_uri",
    "render_html",
    "render_pdf",
    "seal",
    "sheet_count",
    "verification_code",
    "verification_code_hash",
    "verification_code_matches",
    "verification_url",
]

log = logging.getLogger("machi.registry.certificates")

# Debian's fonts-ipaexfont, looked up when rendering and never bundled (design.md: PDFs).
# The Gothic candidates are the privacy report's; the body of a certificate is 明朝.
MINCHO_FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"),
)
TEMPLATES = Path(__file__).with_name("templates")

PERSONS_PER_SHEET = 4
"""世帯連記式: up to 4 persons per sheet, further sheets for more (標準仕様 §4.4)."""

CODE_LENGTH = 16
"""Characters of the verification code: 16 × 5 bits = 80 bits of the HMAC."""

# Crockford's base32: no I, L, O, U, so a typed code survives 0/O and 1/I/L confusion.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)
_TYPO_MAP = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_GROUP = 4
_MAC_CONTEXT = b"machi.certificate.v1"
_HASH_CONTEXT = b"machi.certificate.code.v1"
_DIGEST_VERSION = 1
_MIN_SECRET_BYTES = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SEX_LABELS = {1: "男", 2: "女"}


# =======================================================================================
# What is printed
# =======================================================================================


class CertificateKind(StrEnum):
    """The certificates this module prints; values are those of
    ``registry.certificate_issuance.kind`` (交付履歴, 標準仕様 §3.10)."""

    RESIDENT_RECORD_COPY = "resident_record_copy"  # 住民票の写し (法第12条)
    RECORD_STATEMENT_CERTIFICATE = "record_statement_certificate"  # 住民票記載事項証明書
    REMOVED_RECORD_COPY = "removed_record_copy"  # 住民票の除票の写し (法第15条の4)

    @property
    def label(self) -> str:
        """The title printed at the top."""
        return _TITLES[self]

    @property
    def attestation(self) -> str:
        """認証文. The standard's wording was not found (標準仕様 §4.4: chapter 4 not
        retrieved); these are the sentences in common use."""
        return _ATTESTATIONS[self]


_TITLES = {
    CertificateKind.RESIDENT_RECORD_COPY: "住民票の写し",
    CertificateKind.RECORD_STATEMENT_CERTIFICATE: "住民票記載事項証明書",
    CertificateKind.REMOVED_RECORD_COPY: "住民票の除票の写し",
}
_ATTESTATIONS = {
    CertificateKind.RESIDENT_RECORD_COPY: "この写しは、住民票の原本と相違ないことを証明する。",
    CertificateKind.RECORD_STATEMENT_CERTIFICATE: (
        "上記の事項は、住民票に記載されていることを証明する。"
    ),
    CertificateKind.REMOVED_RECORD_COPY: (
        "この写しは、住民票の除票の原本と相違ないことを証明する。"
    ),
}


@dataclass(frozen=True, slots=True)
class CertificateOptions:
    """What the request asked for. The ``include_*`` items are the standard's omission
    switches (標準仕様 §4.2); each is False unless the requester asks, and each is recorded
    as the matching ``includes_*`` flag of the 交付履歴 row.

    ``include_relationship`` covers 世帯主 and 続柄 together (法第7条第4号 is one item;
    one switch in §4.2). There is no switch for 転入前住所 or 住所を定めた年月日: they are
    法第7条第7号・第8号 items printed on every copy (§4.3 practice); the 異動履歴 form is not
    built."""

    whole_household: bool = False  # 世帯全員 (True) or 世帯一部 (the persons selected)
    include_relationship: bool = False  # 世帯主・続柄
    include_registered_domicile: bool = False  # 本籍・筆頭者
    # 個人番号: only when the person specially asks (DISP-05, REG-CTRL-31).
    include_individual_number: bool = False
    include_resident_record_code: bool = False  # 住民票コード
    # 国籍・地域 and the 法第30条の45 items of 外国人住民 (在留資格, 在留期間等, 満了日, 番号).
    include_foreign_items: bool = False


@dataclass(frozen=True, slots=True)
class RemovalFacts:
    """消除 of a 除票 (法第15条の3; 標準仕様 §4.1): when, why, the 届出日 or 通知日, and for
    a 転出 where to (the confirmed destination if a 転入通知 came, else the planned one)."""

    removed_on: date  # 消除年月日 (異動日)
    reason: ChangeReason  # 消除事由: a ChangeReason of class 消除
    notified_on: date | None = None  # 届出年月日 / 通知年月日
    destination: str | None = None  # 転出先


@dataclass(frozen=True, slots=True)
class ForeignResidentItems:
    """Items of 法第30条の45 printed on request (``include_foreign_items``).
    ``nationality`` is the printed 国籍・地域 name (e.g. 「ベトナム」), not the ISO code."""

    nationality: str
    resident_class: ForeignResidentClass
    residence_status: str | None = None  # 在留資格
    residence_period: str | None = None  # 在留期間等 (「3年」, 「無期限」)
    residence_expires_on: date | None = None  # 満了の日
    residence_card_no: str | None = None  # 在留カード等の番号


@dataclass(frozen=True, slots=True)
class CertificatePerson:
    """One person on the certificate, in the household's display order (表示順位).

    In a ``CertificateDocument`` every optional field is None exactly when it is not
    printed. ``relationship`` is the 続柄 code (``rules.Relationship``, chains joined by
    ".") and is printed as its label. Japanese residents have ``became_resident_on``;
    外国人住民 have ``became_foreign_resident_on`` instead (法第30条の45)."""

    name: str
    birth_date: date
    sex: int  # 1 男, 2 女 (as registry.resident_version.sex)
    address_set_on: date | None  # 住所を定めた年月日
    name_kana: str | None = None  # フリガナ, printed in brackets after the name
    former_surname: str | None = None  # 旧氏 (令第30条の13)
    alias_name: str | None = None  # 通称 (令第30条の26)
    relationship: str | None = None  # 続柄 code
    became_resident_on: date | None = None  # 住民となった年月日
    became_foreign_resident_on: date | None = None  # 外国人住民となった年月日
    # 住所を定めた旨の届出の年月日 (法第7条第8号), printed with the 転入前住所.
    address_notified_on: date | None = None
    previous_address: str | None = None  # 転入前住所 (法第7条第8号)
    registered_domicile: str | None = None  # 本籍 (or 「なし」「不明」)
    family_register_head: str | None = None  # 筆頭者
    individual_number: str | None = None  # 個人番号
    resident_record_code: str | None = None  # 住民票コード
    foreign: ForeignResidentItems | None = None
    removal: RemovalFacts | None = None  # 除票 only

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("氏名が空です")
        if self.sex not in _SEX_LABELS:
            raise ValueError("性別は1(男)か2(女)です")
        if (self.became_resident_on is None) == (self.became_foreign_resident_on is None):
            raise ValueError(
                "住民となった年月日と外国人住民となった年月日は、どちらか一方だけを指定します"
            )
        if self.relationship is not None:
            check_relationship(self.relationship)
        if self.individual_number is not None and not is_valid_individual_number(
            self.individual_number
        ):
            raise ValueError("個人番号の形式が正しくありません")
        if self.resident_record_code is not None and not is_valid_resident_record_code(
            self.resident_record_code
        ):
            raise ValueError("住民票コードの形式が正しくありません")
        if self.removal is not None and self.removal.reason.record_class is not RecordClass.REMOVAL:
            raise ValueError("消除事由が消除の異動事由ではありません")


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    """Everything printed on one copy, and nothing else.

    ``mayor_title`` / ``mayor_name`` are the 認証者 in force on ``issued_on`` (the caller
    picks the mayor or the 職務代理者 by period, 標準仕様 §2.1 j290). ``address`` is the
    household's 住所 (for a 除票, the last one) and ``building`` its 方書, which is always
    printed (§4.3). ``household_head`` is printed with 続柄 only. ``verify_base_url`` is the
    public origin of the verification page; ``demo`` marks every sheet as a demo so the paper
    cannot pass for a real certificate. ``verification_code`` is None until ``seal``."""

    kind: CertificateKind
    options: CertificateOptions
    municipality: str
    mayor_title: str
    mayor_name: str
    issuance_no: str
    issued_on: date
    address: str
    persons: tuple[CertificatePerson, ...]
    verify_base_url: str
    demo: bool
    building: str | None = None
    household_head: str | None = None
    verification_code: str | None = None

    def __post_init__(self) -> None:
        if not self.issuance_no.strip():
            raise ValueError("発行番号が空です")
        if not self.persons:
            raise ValueError("証明する人がいません")
        if not self.verify_base_url.startswith(("https://", "http://")):
            raise ValueError("照合ページのURLは http(s):// で始めます")
        removed = self.kind is CertificateKind.REMOVED_RECORD_COPY
        if removed and len(self.persons) != 1:
            # 除票 are issued as 個人票 only, one copy (and one 発行番号) per person (§4.4).
            raise ValueError("除票の写しは1人ずつ発行します")
        o = self.options
        if not o.include_relationship and self.household_head is not None:
            raise ValueError("世帯主・続柄を記載しない証明書に世帯主が指定されています")
        for p in self.persons:
            if (p.removal is not None) != removed:
                raise ValueError("消除の事項は除票の写しにだけ、必ず記載します")
            _check_omitted(p, o)
        if self.verification_code is not None:
            normalize_verification_code(self.verification_code)


def _check_omitted(p: CertificatePerson, o: CertificateOptions) -> None:
    """An item the request did not ask for must not be in the document at all (DISP-05)."""
    omitted = {
        "relationship": not o.include_relationship and p.relationship is not None,
        "registered_domicile": not o.include_registered_domicile
        and (p.registered_domicile is not None or p.family_register_head is not None),
        "individual_number": not o.include_individual_number and p.individual_number is not None,
        "resident_record_code": not o.include_resident_record_code
        and p.resident_record_code is not None,
        "foreign_items": not o.include_foreign_items and p.foreign is not None,
    }
    for item, present in omitted.items():
        if present:
            raise ValueError(f"請求のない事項が証明書に含まれています: {item}")


def build_document(
    *,
    kind: CertificateKind,
    options: CertificateOptions,
    municipality: str,
    mayor_title: str,
    mayor_name: str,
    issuance_no: str,
    issued_on: date,
    address: str,
    building: str | None,
    household_head: str | None,
    persons: Sequence[CertificatePerson],
    verify_base_url: str,
    demo: bool,
) -> CertificateDocument:
    """A document from the full record items: what ``options`` does not ask for is dropped
    here, so the caller can pass every item it loaded. Returns an unsealed document."""
    kept = tuple(_apply_options(p, options) for p in persons)
    return CertificateDocument(
        kind=kind,
        options=options,
        municipality=municipality,
        mayor_title=mayor_title,
        mayor_name=mayor_name,
        issuance_no=issuance_no,
        issued_on=issued_on,
        address=address,
        building=building,
        household_head=household_head if options.include_relationship else None,
        persons=kept,
        verify_base_url=verify_base_url,
        demo=demo,
    )


def _apply_options(p: CertificatePerson, o: CertificateOptions) -> CertificatePerson:
    return dataclasses.replace(
        p,
        relationship=p.relationship if o.include_relationship else None,
        registered_domicile=p.registered_domicile if o.include_registered_domicile else None,
        family_register_head=p.family_register_head if o.include_registered_domicile else None,
        individual_number=p.individual_number if o.include_individual_number else None,
        resident_record_code=p.resident_record_code if o.include_resident_record_code else None,
        foreign=p.foreign if o.include_foreign_items else None,
    )


def sheet_count(document: CertificateDocument) -> int:
    """Sheets of paper (枚数 of the 交付履歴): one per ``PERSONS_PER_SHEET`` persons. The
    layout keeps each group, with the 認証文 on the last, on one A4 page even for 外国人住民
    with every item (tested); ``render_pdf`` logs a warning if free text ever pushes a sheet
    over."""
    return math.ceil(len(document.persons) / PERSONS_PER_SHEET)


# =======================================================================================
# Digest and verification code
# =======================================================================================


def content_digest(document: CertificateDocument) -> str:
    """SHA-256 (hex) over a canonical serialisation of what is printed: sorted-key JSON of
    every field except the verification code and the verification page's origin (both
    derive from the digest or are no content), dates as ISO 8601, text in NFC."""
    content = dataclasses.asdict(document)
    del content["verification_code"], content["verify_base_url"]
    canonical = json.dumps(
        {"v": _DIGEST_VERSION, "certificate": _canonical(content)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # StrEnum members too: their value, not their repr.
        return unicodedata.normalize("NFC", str(value))
    return value


def verification_code(secret: bytes, issuance_no: str, content_digest: str) -> str:
    """The 照合番号: HMAC-SHA256 over the 発行番号 and the content digest, truncated to 80
    bits, in Crockford base32 as 4 groups of 4 (see the module docstring)."""
    if len(secret) < _MIN_SECRET_BYTES:
        raise ValueError("照合番号の鍵は32バイト以上にしてください")
    if not _HEX64.fullmatch(content_digest):
        raise ValueError("内容のダイジェストは SHA-256 の16進64文字です")
    # The digest has a fixed length and comes last, so 発行番号 and digest cannot run into
    # each other; the context label keeps these MACs apart from any other use of the key.
    message = b"\x00".join(
        (_MAC_CONTEXT, issuance_no.encode("utf-8"), content_digest.encode("ascii"))
    )
    mac = hmac.new(secret, message, hashlib.sha256).digest()
    # base32 of the first 10 bytes is exactly 16 characters, without padding.
    code = base64.b32encode(mac[:10]).decode("ascii").translate(_RFC4648_TO_CROCKFORD)
    return _group(code)


def _group(code: str) -> str:
    return "-".join(code[i : i + _CODE_GROUP] for i in range(0, len(code), _CODE_GROUP))


def normalize_verification_code(code: str) -> str:
    """The code as printed (``XXXX-XXXX-XXXX-XXXX``) from what a person typed or a scanner
    read: full-width characters folded, spaces and hyphens dropped, lower case raised,
    O → 0 and I/L → 1. Raises ``ValueError`` for anything that cannot be a code."""
    text = unicodedata.normalize("NFKC", code).upper().translate(_TYPO_MAP)
    text = re.sub(r"[\s\-‐－ー−]", "", text)
    if len(text) != CODE_LENGTH or any(c not in _CROCKFORD for c in text):
        raise ValueError("照合番号は英数字16文字です")
    return _group(text)


def verification_code_hash(code: str) -> bytes:
    """What the 交付履歴 keeps (``verification_code_hash``): SHA-256 of the normalised code.
    Unkeyed on purpose: the code has 80 bits, so the hash cannot be reversed by trying
    codes, and a verifier needs no secret."""
    normal = normalize_verification_code(code)
    return hashlib.sha256(_HASH_CONTEXT + b"\x00" + normal.encode("ascii")).digest()


def verification_code_matches(code: str, stored_hash: bytes) -> bool:
    """Whether an entered code is the one issued; False for anything malformed."""
    try:
        entered = verification_code_hash(code)
    except ValueError:
        return False
    return hmac.compare_digest(entered, stored_hash)


def seal(document: CertificateDocument, secret: bytes) -> CertificateDocument:
    """The document with its verification code."""
    unsealed = dataclasses.replace(document, verification_code=None)
    code = verification_code(secret, unsealed.issuance_no, content_digest(unsealed))
    return dataclasses.replace(document, verification_code=code)


def verification_url(base_url: str, issuance_no: str, code: str) -> str:
    """What the QR code encodes: the verification page with 発行番号 and code filled in."""
    query = urlencode({"no": issuance_no, "code": normalize_verification_code(code)})
    return f"{base_url.rstrip('/')}/certificates/verify?{query}"


def qr_data_uri(url: str) -> str:
    """A PNG QR code of ``url`` as a data URI. Level M survives a smudge or a fold; the
    4-module quiet zone is what scanners expect. PNG rather than SVG: WeasyPrint spent most
    of a certificate's render time parsing the SVG path (bench/registry.py profile)."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        box_size=8,
    )
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# =======================================================================================
# Rendering
# =======================================================================================


@dataclass(frozen=True, slots=True)
class _Item:
    label: str
    value: str
    number: bool = False  # digits, set in Gothic so 1/7 and 0/8 are not confused


def _wareki(d: date | None) -> str:
    return "" if d is None else to_wareki(d)


def _person_rows(p: CertificatePerson) -> list[list[_Item]]:
    """Rows of label/value pairs below the name row (one or two pairs per row). Only items
    the document holds appear, so an omitted item leaves no trace on the paper. Short items
    share a row so that 4 persons, the 認証文 and the QR code fit on one A4 page."""
    rows: list[list[_Item]] = [
        [_Item("生年月日", _wareki(p.birth_date)), _Item("性別", _SEX_LABELS[p.sex])]
    ]
    became = (
        _Item("住民となった年月日", _wareki(p.became_resident_on))
        if p.became_resident_on is not None
        else _Item("外国人住民となった年月日", _wareki(p.became_foreign_resident_on))
    )
    rows.append([became, _Item("住所を定めた年月日", _wareki(p.address_set_on))])
    # 法第7条第8号: the 届出年月日 and the former address belong together.
    arrival = [
        _Item(label, value)
        for label, value in (
            ("転入前住所", p.previous_address),
            (
                "届出年月日",
                None if p.address_notified_on is None else to_wareki(p.address_notified_on),
            ),
        )
        if value is not None
    ]
    if arrival:
        rows.append(arrival)
    if p.registered_domicile is not None or p.family_register_head is not None:
        rows.append(
            [
                _Item("本籍", p.registered_domicile or ""),
                _Item("筆頭者", p.family_register_head or ""),
            ]
        )
    numbers = [
        _Item(label, value, number=True)
        for label, value in (
            ("個人番号", p.individual_number),
            ("住民票コード", p.resident_record_code),
        )
        if value is not None
    ]
    if numbers:
        rows.append(numbers)
    if p.foreign is not None:
        f = p.foreign
        rows.append(
            [_Item("国籍・地域", f.nationality), _Item("第30条の45区分", f.resident_class.label)]
        )
        if f.residence_status is not None or f.residence_period is not None:
            rows.append(
                [
                    _Item("在留資格", f.residence_status or ""),
                    _Item("在留期間等", f.residence_period or ""),
                ]
            )
        if f.residence_expires_on is not None or f.residence_card_no is not None:
            rows.append(
                [
                    _Item("在留期間等の満了の日", _wareki(f.residence_expires_on)),
                    _Item("在留カード等の番号", f.residence_card_no or "", number=True),
                ]
            )
    if p.removal is not None:
        r = p.removal
        rows.append([_Item("消除年月日", _wareki(r.removed_on)), _Item("消除事由", r.reason.label)])
        if r.notified_on is not None or r.destination is not None:
            rows.append(
                [
                    _Item("届出（通知）年月日", _wareki(r.notified_on)),
                    _Item("転出先", r.destination or ""),
                ]
            )
    return rows


def _css_escape(value: str) -> str:
    """``value`` for the inside of a CSS string in the page margin boxes: every character
    that is not an ASCII letter or digit becomes a hex escape, so a 発行番号 can never end
    the string or the <style> element whatever it contains, and HTML autoescaping (which
    would put entities where CSS does not decode them) finds nothing to change."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):06x}" for c in value)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["wareki"] = _wareki
    env.filters["css_escape"] = _css_escape
    return env


def _first_file(candidates: Sequence[Path], what: str) -> Path | None:
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        # Still rendered (with the viewer's fallback font) so that issuing never stops on a
        # machine without the package; the log tells operations to install it.
        log.warning("certificate font not found (%s); install fonts-ipaexfont", what)
    return found


def render_html(
    document: CertificateDocument,
    *,
    mincho: Sequence[Path] = MINCHO_FONT_CANDIDATES,
    gothic: Sequence[Path] = GOTHIC_FONT_CANDIDATES,
) -> str:
    """The certificate as HTML for WeasyPrint (A4 portrait, 明朝 body, dates in 和暦)."""
    if document.verification_code is None:
        raise ValueError("照合番号のない証明書は印刷できません (seal を先に呼んでください)")
    mincho_font = _first_file(mincho, "mincho")
    gothic_font = _first_file(gothic, "gothic")
    url = verification_url(
        document.verify_base_url, document.issuance_no, document.verification_code
    )
    scope = ""
    if document.kind is not CertificateKind.REMOVED_RECORD_COPY:
        scope = "世帯全員" if document.options.whole_household else "世帯一部"
    sheets = [
        [
            (
                index,
                person,
                None if person.relationship is None else relationship_label(person.relationship),
                _person_rows(person),
            )
            for index, person in sheet
        ]
        for sheet in _numbered_sheets(document)
    ]
    return (
        _environment()
        .get_template("registry/certificate.html")
        .render(
            d=document,
            title=document.kind.label,
            scope=scope,
            attestation=document.kind.attestation,
            sheets=sheets,
            qr=qr_data_uri(url),
            verify_page=f"{document.verify_base_url.rstrip('/')}/certificates/verify",
            mincho_url=mincho_font.as_uri() if mincho_font else None,
            gothic_url=gothic_font.as_uri() if gothic_font else None,
        )
    )


def _numbered_sheets(
    document: CertificateDocument,
) -> list[list[tuple[int, CertificatePerson]]]:
    n = PERSONS_PER_SHEET
    numbered = list(enumerate(document.persons, start=1))
    return [numbered[i : i + n] for i in range(0, len(numbered), n)]


def render_pdf(
    document: CertificateDocument,
    *,
    mincho: Sequence[Path] = MINCHO_FONT_CANDIDATES,
    gothic: Sequence[Path] = GOTHIC_FONT_CANDIDATES,
) -> bytes:
    """The certificate as PDF."""
    import weasyprint  # heavy; only the PDF needs it

    html = render_html(document, mincho=mincho, gothic=gothic)
    rendered = weasyprint.HTML(string=html).render()
    if len(rendered.pages) != sheet_count(document):
        # The 交付履歴 records sheet_count() as 枚数; an item long enough to push a sheet
        # over one page makes that wrong, so operations must hear of it (標準仕様 §4.4
        # overflow: alert).
        log.warning(
            "certificate overflowed: %d pages for %d sheets",
            len(rendered.pages),
            sheet_count(document),
        )
    pdf: bytes = rendered.write_pdf()
    return pdf
