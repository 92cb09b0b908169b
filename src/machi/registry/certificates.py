"""住民票の写し, 住民票記載事項証明書 and 住民票の除票の写し: the printed document, its
verification code, and its rendering (a fixed form drawn on a PDF canvas with reportlab and
the IPAex fonts).

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

Rendering
---------
A certificate is a fixed form: the same grid on A4 portrait every time, with only the values
changing, up to ``PERSONS_PER_SHEET`` persons a sheet. So it is drawn directly with reportlab
at fixed positions (``render_pdf``) rather than laid out from HTML: WeasyPrint spent ~230 ms
a copy on layout and line breaking, which made issuing the slowest request of the counter
(docs/decisions/0008-certificate-pdf-with-reportlab.md); drawing takes a tenth of that. The
IPAex fonts are parsed once per process and embedded as subsets, whose ToUnicode maps keep
the text searchable and extractable. What the form cannot place at its fixed size is never
cut off: a long value is shrunk (to 70 %), then wrapped with its row grown, and a sheet that
no longer fits its page goes on over another one, with a warning in the log. Reports, which
flow over many pages (the privacy audit report), stay on WeasyPrint.

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
import hashlib
import hmac
import io
import json
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import qrcode
from PIL import Image
from reportlab import rl_config
from reportlab.lib import units
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

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


# -- the fixed form ---------------------------------------------------------------------
#
# Every position is fixed on A4 portrait (mm from the page's left and bottom edges):
#
#   header   発行番号 and page i/n, 照合番号 (right); the demo banner (left)
#   title    kind and 世帯全員/世帯一部, centred
#   世帯     住所 (with 方書) and 世帯主, label column 40 mm
#   persons  one table each: 番号 | label | value | label | value (one or two items a row)
#   foot     以下余白 after the last person, 次頁へ続く on the other pages; on the last page
#            the 認証文, QR code, 発行番号 and 照合番号, date, 市町村長 and the 公印 box
#
# A value that does not fit its cell is shrunk (down to _MIN_SCALE), then wrapped, and its
# row grows; a sheet that no longer fits its page goes on over another page, logged.

mm: float = units.mm  # points in a millimetre
_PAGE_WIDTH: float = A4[0]
_PAGE_HEIGHT: float = A4[1]
_LEFT = 15 * mm
_RIGHT = _PAGE_WIDTH - 15 * mm
_TOP = _PAGE_HEIGHT - 20 * mm
_BOTTOM = 15 * mm
_WIDTH = _RIGHT - _LEFT  # 180 mm
_NO_WIDTH = 7 * mm
_LABEL_WIDTH = 33 * mm
_VALUE_WIDTH = (_WIDTH - _NO_WIDTH - 2 * _LABEL_WIDTH) / 2
_RELATIONSHIP_LABEL_WIDTH = 12 * mm
_RELATIONSHIP_WIDTH = 22 * mm
_HOUSEHOLD_LABEL_WIDTH = _NO_WIDTH + _LABEL_WIDTH  # lines up with the persons' values
_ROW_HEIGHT = 5 * mm
_NAME_ROW_HEIGHT = 7 * mm
_HOUSEHOLD_ROW_HEIGHT = 7 * mm
_PERSON_GAP = 1.8 * mm
_CELL_PADDING_X = 1.5 * mm
_CELL_PADDING_Y = 0.5 * mm
_FOOT_LINE = 6 * mm  # 以下余白 / 次頁へ続く
_DEMO_NOTE_HEIGHT = 8 * mm
_ATTESTATION_HEIGHT = 34 * mm
_QR_SIZE = 22 * mm
_SEAL_SIZE = 20 * mm

_LABEL_PT = 7.0
_VALUE_PT = 9.0
_HOUSEHOLD_PT = 10.5
_NAME_PT = 11.0
_SMALL_PT = 8.0
_MIN_SCALE = 0.7  # shrink a long value to 70 % on one line before wrapping it
_LEADING = 1.2  # line height, in em
_WRAP_SCALE = 0.8  # a value that must wrap anyway is set at 80 %, for legibility
_FILL_AND_STROKE = 2  # PDF text render mode (Tr 2)
_CJK_MIDDLE = 0.38  # the middle of a CJK glyph above the baseline, in em (IPAex: -0.12…0.88)
_GRID_LINE = 0.6
_LABEL_FILL = Color(0.95, 0.95, 0.95)
_DEMO_RED = Color(0.75, 0, 0)
_SEAL_GREY = Color(0.33, 0.33, 0.33)
_NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕〉》ー―ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
_DEMO_BANNER = "デモ環境 — 架空の住民の証明書です"
_DEMO_FOOTER = "デモ環境 — 架空の住民の証明書です。この用紙は証明書として効力がありません。"

# reportlab keeps its font registry and each TrueType font's per-document subset state in
# module globals, so font registration and drawing are serialised. Rendering is CPU-bound
# Python, so the lock costs no throughput the GIL would not already cost.
_RENDER_LOCK = threading.Lock()
_TTF_NAMES: dict[Path, str] = {}
_FALLBACK_FONTS = {"mincho": "HeiseiMin-W3", "gothic": "HeiseiKakuGo-W5"}


@dataclass(frozen=True, slots=True)
class _Fonts:
    mincho: str
    gothic: str


def _font(candidates: Sequence[Path], what: str) -> str:
    """The registered name of the first font file found, registered (and parsed) once per
    process; reportlab embeds a subset of it in each PDF. Without the file: reportlab's
    built-in Japanese CID font, which is not embedded (the viewer supplies a 明朝 or
    ゴシック)."""
    path = _first_file(candidates, what)
    if path is None:
        fallback = _FALLBACK_FONTS[what]
        if fallback not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(fallback))
        return fallback
    name = _TTF_NAMES.get(path)
    if name is None:
        name = f"machi-{what}-{len(_TTF_NAMES)}"
        pdfmetrics.registerFont(TTFont(name, str(path)))
        _TTF_NAMES[path] = name
    return name


def _first_file(candidates: Sequence[Path], what: str) -> Path | None:
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        # Still rendered (with a font the viewer supplies) so that issuing never stops on a
        # machine without the package; the log tells operations to install it.
        log.warning("certificate font not found (%s); install fonts-ipaexfont", what)
    return found


def _string_width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


@dataclass(frozen=True, slots=True)
class _Run:
    """Text in one font and size. ``spacing`` is added after every character (em);
    ``before`` is a gap before the run (pt), dropped at the start of a line."""

    text: str
    font: str
    size: float
    spacing: float = 0.0
    before: float = 0.0
    bold: bool = False  # filled and thinly stroked: the fonts have no bold face

    @property
    def width(self) -> float:
        return self.before + self.text_width

    @property
    def text_width(self) -> float:
        return _string_width(self.text, self.font, self.size) + (
            self.spacing * self.size * len(self.text)
        )

    def scaled(self, factor: float) -> _Run:
        return dataclasses.replace(self, size=self.size * factor, before=self.before * factor)


@dataclass(frozen=True, slots=True)
class _Lines:
    """Runs set in a width: one or more lines."""

    lines: tuple[tuple[_Run, ...], ...]

    @property
    def height(self) -> float:
        return sum(_line_height(line) for line in self.lines)


def _line_height(line: Sequence[_Run]) -> float:
    return max((r.size for r in line), default=0.0) * _LEADING


def _set(runs: Sequence[_Run], width: float) -> _Lines:
    """``runs`` on one line if they fit; else shrunk to fit, but not below ``_MIN_SCALE``;
    else wrapped at ``_WRAP_SCALE``. Nothing is cut off: a long value takes more lines."""
    natural = sum(r.width for r in runs)
    if natural <= width:
        return _Lines((tuple(runs),))
    scale = width / natural
    if scale >= _MIN_SCALE:
        return _Lines((tuple(r.scaled(scale) for r in runs),))
    return _Lines(_wrap([r.scaled(_WRAP_SCALE) for r in runs], width))


def _set_in_box(runs: Sequence[_Run], width: float, height: float) -> _Lines:
    """``runs`` wrapped in ``width`` and made smaller until they fit ``height`` (for the
    parts of the form whose box cannot grow)."""
    scale = 1.0
    while True:
        lines = _Lines(_wrap([r.scaled(scale) for r in runs], width))
        if lines.height <= height or scale < 0.4:
            return lines
        scale *= 0.9


def _wrap(runs: Sequence[_Run], width: float) -> tuple[tuple[_Run, ...], ...]:
    """Greedy line breaking between any two characters (Japanese has no spaces to break
    at). Closing punctuation is never moved to the start of a line (it may hang into the
    cell padding instead, ぶら下げ); a space at a break is dropped."""
    lines: list[tuple[_Run, ...]] = []
    line: list[_Run] = []
    used = 0.0
    for run in runs:
        gap = run.before if line else 0.0
        text = ""
        pending = gap
        for ch in run.text:
            if ch == "\n":  # a forced break; an empty line keeps the run's height
                if text or not line:
                    line.append(dataclasses.replace(run, text=text, before=gap))
                lines.append(tuple(line))
                line, used, text, gap, pending = [], 0.0, "", 0.0, 0.0
                continue
            advance = _string_width(ch, run.font, run.size) + run.spacing * run.size
            if (line or text) and used + pending + advance > width and ch not in _NO_LINE_START:
                if text:
                    line.append(dataclasses.replace(run, text=text, before=gap))
                lines.append(tuple(line))
                line, used, text, gap, pending = [], 0.0, "", 0.0, 0.0
                if ch.isspace():
                    continue
            text += ch
            pending += advance
        if text:
            line.append(dataclasses.replace(run, text=text, before=gap))
            used += pending
    if line:
        lines.append(tuple(line))
    return tuple(lines)


def _draw_lines(
    canvas: Canvas,
    lines: _Lines,
    x: float,
    top: float,
    width: float,
    height: float,
    *,
    align: str = "left",
) -> None:
    """``lines`` centred vertically in the box whose top-left corner is (x, top)."""
    y = top - (height - lines.height) / 2
    for line in lines.lines:
        if not line:
            continue
        line_height = _line_height(line)
        size = max(r.size for r in line)
        baseline = y - line_height / 2 - _CJK_MIDDLE * size
        line_width = sum(r.width for r in line) - line[0].before
        if align == "right":
            cursor = x + width - line_width
        elif align == "center":
            cursor = x + (width - line_width) / 2
        else:
            cursor = x
        for index, run in enumerate(line):
            if index:
                cursor += run.before
            if not run.text:
                continue
            canvas.setFont(run.font, run.size)
            canvas.drawString(
                cursor,
                baseline,
                run.text,
                mode=_FILL_AND_STROKE if run.bold else None,
                charSpace=run.spacing * run.size,
            )
            cursor += run.text_width
        y -= line_height


@dataclass(frozen=True, slots=True)
class _Cell:
    x: float
    width: float
    lines: _Lines
    label: bool = False
    align: str = "left"

    @property
    def needed(self) -> float:
        return self.lines.height + 2 * _CELL_PADDING_Y


@dataclass(frozen=True, slots=True)
class _Row:
    height: float
    cells: tuple[_Cell, ...]


def _row(cells: Sequence[_Cell], minimum: float) -> _Row:
    return _Row(max(minimum, *(c.needed for c in cells)), tuple(cells))


def _cell(runs: Sequence[_Run], x: float, width: float, **kwargs: Any) -> _Cell:
    return _Cell(x, width, _set(runs, width - 2 * _CELL_PADDING_X), **kwargs)


@dataclass(frozen=True, slots=True)
class _Table:
    """A grid of rows; persons have their 番号 in a cell to the left spanning all rows."""

    rows: tuple[_Row, ...]
    number: _Cell | None = None

    @property
    def height(self) -> float:
        return sum(r.height for r in self.rows)


def _draw_table(canvas: Canvas, table: _Table, top: float) -> float:
    """Draws ``table`` from ``top`` down; returns its bottom."""
    canvas.setLineWidth(_GRID_LINE)
    canvas.setStrokeColor(black)
    bottom = top - table.height
    if table.number is not None:
        n = table.number
        canvas.rect(n.x, bottom, n.width, table.height, stroke=1, fill=0)
        _draw_lines(canvas, n.lines, n.x, top, n.width, table.height, align=n.align)
    y = top
    for row in table.rows:
        for cell in row.cells:
            if cell.label:
                canvas.setFillColor(_LABEL_FILL)
            canvas.rect(cell.x, y - row.height, cell.width, row.height, stroke=1, fill=cell.label)
            canvas.setFillColor(black)
            _draw_lines(
                canvas,
                cell.lines,
                cell.x + _CELL_PADDING_X,
                y,
                cell.width - 2 * _CELL_PADDING_X,
                row.height,
                align=cell.align,
            )
        y -= row.height
    return bottom


def _household_table(document: CertificateDocument, fonts: _Fonts) -> _Table:
    value_x = _LEFT + _HOUSEHOLD_LABEL_WIDTH
    value_width = _RIGHT - value_x
    address = document.address + (f"　{document.building}" if document.building else "")
    items = [("住所", address)]
    if document.household_head is not None:
        items.append(("世帯主", document.household_head))
    return _Table(
        tuple(
            _row(
                [
                    _cell(
                        [_Run(label, fonts.mincho, _LABEL_PT)],
                        _LEFT,
                        _HOUSEHOLD_LABEL_WIDTH,
                        label=True,
                    ),
                    _cell([_Run(value, fonts.mincho, _HOUSEHOLD_PT)], value_x, value_width),
                ],
                _HOUSEHOLD_ROW_HEIGHT,
            )
            for label, value in items
        )
    )


def _person_table(index: int, p: CertificatePerson, fonts: _Fonts) -> _Table:
    label_x = _LEFT + _NO_WIDTH
    value_x = label_x + _LABEL_WIDTH
    label2_x = value_x + _VALUE_WIDTH
    value2_x = label2_x + _LABEL_WIDTH

    def label(text: str, x: float, width: float = _LABEL_WIDTH) -> _Cell:
        return _cell([_Run(text, fonts.mincho, _LABEL_PT)], x, width, label=True)

    def value(item: _Item, x: float, width: float) -> _Cell:
        font, spacing = (fonts.gothic, 0.08) if item.number else (fonts.mincho, 0.0)
        return _cell([_Run(item.value, font, _VALUE_PT, spacing)], x, width)

    name = [_Run(p.name, fonts.mincho, _NAME_PT)]
    if p.name_kana:
        name.append(_Run(f"（{p.name_kana}）", fonts.mincho, _SMALL_PT, before=1 * mm))
    if p.former_surname:
        name.append(_Run(f"旧氏　{p.former_surname}", fonts.mincho, _SMALL_PT, before=3 * mm))
    if p.alias_name:
        name.append(_Run(f"通称　{p.alias_name}", fonts.mincho, _SMALL_PT, before=3 * mm))
    name_cells = [label("氏名", label_x)]
    if p.relationship is None:
        name_cells.append(_cell(name, value_x, _RIGHT - value_x))
    else:
        relationship_x = _RIGHT - _RELATIONSHIP_WIDTH
        relationship_label_x = relationship_x - _RELATIONSHIP_LABEL_WIDTH
        name_cells += [
            _cell(name, value_x, relationship_label_x - value_x),
            label("続柄", relationship_label_x, _RELATIONSHIP_LABEL_WIDTH),
            _cell(
                [_Run(relationship_label(p.relationship), fonts.mincho, _VALUE_PT)],
                relationship_x,
                _RELATIONSHIP_WIDTH,
            ),
        ]
    rows = [_row(name_cells, _NAME_ROW_HEIGHT)]
    for items in _person_rows(p):
        if len(items) == 1:
            cells = [label(items[0].label, label_x), value(items[0], value_x, _RIGHT - value_x)]
        else:
            first, second = items
            cells = [
                label(first.label, label_x),
                value(first, value_x, _VALUE_WIDTH),
                label(second.label, label2_x),
                value(second, value2_x, _RIGHT - value2_x),
            ]
        rows.append(_row(cells, _ROW_HEIGHT))
    number = _cell([_Run(str(index), fonts.gothic, _VALUE_PT)], _LEFT, _NO_WIDTH, align="center")
    return _Table(tuple(rows), number)


@dataclass(slots=True)
class _Page:
    persons: list[_Table] = dataclasses.field(default_factory=list)
    blank_follows: bool = False  # 以下余白 after the last person
    attestation: bool = False


def _paginate(document: CertificateDocument, fonts: _Fonts, body_top: float) -> list[_Page]:
    """Sheets of ``PERSONS_PER_SHEET`` persons, one page each unless their content does not
    fit; the last page keeps room for the 認証文 block at its foot."""
    attestation_top = _BOTTOM + _ATTESTATION_HEIGHT + (_DEMO_NOTE_HEIGHT + 2 * mm) * document.demo
    pages: list[_Page] = []
    for sheet in _numbered_sheets(document):
        page = _Page()
        pages.append(page)
        y = body_top
        for index, person in sheet:
            table = _person_table(index, person, fonts)
            if page.persons and y - table.height < _BOTTOM + _FOOT_LINE:
                page = _Page()
                pages.append(page)
                y = body_top
            if y - table.height < _BOTTOM + _FOOT_LINE:
                # Alone on a page and still too long: its foot is cut off the paper.
                log.warning("certificate overflowed: person %d is longer than a page", index)
            page.persons.append(table)
            y -= table.height + _PERSON_GAP
    page.blank_follows = True
    if y - _FOOT_LINE < attestation_top:
        page = _Page()
        pages.append(page)
    page.attestation = True
    return pages


def _qr_image(url: str) -> Image.Image:
    """A QR code of ``url`` as a grey image, one pixel a module (PDF viewers and printers
    enlarge an image without smoothing unless it asks for it, so the modules stay sharp).
    Level M survives a smudge or a fold; the 4-module quiet zone is what scanners expect."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    modules = qr.get_matrix()  # with the quiet zone; True is dark
    image = Image.new("L", (len(modules), len(modules)))
    image.putdata([0 if dark else 255 for row in modules for dark in row])
    return image


def _draw_header(
    canvas: Canvas, document: CertificateDocument, fonts: _Fonts, page: int, pages: int
) -> None:
    header_x = _LEFT + 75 * mm
    header_width = _RIGHT - header_x
    for text, top in (
        (f"発行番号　{document.issuance_no}　{page}/{pages}", _PAGE_HEIGHT - 9 * mm),
        (f"照合番号　{document.verification_code}", _PAGE_HEIGHT - 13 * mm),
    ):
        runs = [_Run(text, fonts.gothic, _SMALL_PT)]
        lines = _set_in_box(runs, header_width, 4 * mm)
        _draw_lines(canvas, lines, header_x, top, header_width, 4 * mm, align="right")
    title = [_Run(document.kind.label, fonts.mincho, 16, spacing=0.3)]
    if document.kind is not CertificateKind.REMOVED_RECORD_COPY:
        scope = "世帯全員" if document.options.whole_household else "世帯一部"
        title.append(_Run(f"（{scope}）", fonts.mincho, 10, before=1 * mm))
    _draw_lines(canvas, _set(title, _WIDTH), _LEFT, _TOP, _WIDTH, 9 * mm, align="center")


def _draw_demo_marks(canvas: Canvas, fonts: _Fonts) -> None:
    """The demo watermark, banner and footer: the paper cannot pass for a certificate."""
    canvas.saveState()
    canvas.setFillColor(_DEMO_RED, alpha=0.10)
    canvas.translate(_PAGE_WIDTH / 2, _PAGE_HEIGHT - 130 * mm)
    canvas.rotate(30)
    canvas.setFont(fonts.gothic, 72)
    canvas.drawCentredString(0, 0, "デモ　見本")
    canvas.restoreState()
    canvas.saveState()
    _bold(canvas, _DEMO_RED)
    banner = _set([_Run(_DEMO_BANNER, fonts.gothic, 11, bold=True)], 72 * mm)
    _draw_lines(canvas, banner, _LEFT, _PAGE_HEIGHT - 9 * mm, 72 * mm, 8 * mm)
    footer = _set([_Run(_DEMO_FOOTER, fonts.gothic, 9, bold=True)], _WIDTH)
    _draw_lines(canvas, footer, _LEFT, 11 * mm, _WIDTH, 6 * mm, align="center")
    canvas.restoreState()


def _bold(canvas: Canvas, colour: Color) -> None:
    """Colours and stroke width for ``bold`` runs (stroked around their fill)."""
    canvas.setFillColor(colour)
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(0.35)


def _draw_attestation(canvas: Canvas, document: CertificateDocument, fonts: _Fonts) -> None:
    """The foot of the last page: 認証文, QR code with 発行番号 and 照合番号, the date of
    issue, the 市町村長 (or 職務代理者) and the box for the 公印."""
    assert document.verification_code is not None
    bottom = _BOTTOM
    if document.demo:
        canvas.saveState()
        _bold(canvas, _DEMO_RED)
        canvas.setLineWidth(1.5)
        canvas.rect(_LEFT, bottom, _WIDTH, _DEMO_NOTE_HEIGHT, stroke=1, fill=0)
        canvas.setLineWidth(0.35)
        note = _set([_Run(_DEMO_BANNER, fonts.gothic, 11, bold=True)], _WIDTH)
        _draw_lines(
            canvas,
            note,
            _LEFT,
            bottom + _DEMO_NOTE_HEIGHT,
            _WIDTH,
            _DEMO_NOTE_HEIGHT,
            align="center",
        )
        canvas.restoreState()
        bottom += _DEMO_NOTE_HEIGHT + 2 * mm
    top = bottom + _ATTESTATION_HEIGHT

    statement = _set([_Run(document.kind.attestation, fonts.mincho, 11)], _WIDTH - 6 * mm)
    _draw_lines(canvas, statement, _LEFT + 6 * mm, top, _WIDTH - 6 * mm, 7 * mm)

    url = verification_url(
        document.verify_base_url, document.issuance_no, document.verification_code
    )
    canvas.drawImage(ImageReader(_qr_image(url)), _LEFT, bottom, _QR_SIZE, _QR_SIZE)
    codes_x = _LEFT + _QR_SIZE + 3 * mm
    codes_width = 68 * mm
    issuance = _set(
        [
            _Run("発行番号", fonts.gothic, _SMALL_PT),
            _Run(document.issuance_no, fonts.gothic, _SMALL_PT, before=2 * mm),
        ],
        codes_width,
    )
    _draw_lines(canvas, issuance, codes_x, bottom + _QR_SIZE, codes_width, 4.5 * mm)
    code = _set(
        [
            _Run("照合番号", fonts.gothic, _SMALL_PT),
            _Run(document.verification_code, fonts.gothic, 11, spacing=0.1, before=2 * mm),
        ],
        codes_width,
    )
    _draw_lines(canvas, code, codes_x, bottom + _QR_SIZE - 4.5 * mm, codes_width, 5.5 * mm)
    verify_page = f"{document.verify_base_url.rstrip('/')}/certificates/verify"
    how = (
        f"{document.municipality}が発行した証明書であることは、\n{verify_page}\nで発行番号と"
        "照合番号を入力するか、QRコードを読み取って確認できます（個人の情報は表示されません）。"
    )
    how_height = _QR_SIZE - 10.5 * mm
    how_lines = _set_in_box([_Run(how, fonts.gothic, 6.5)], codes_width, how_height)
    _draw_lines(canvas, how_lines, codes_x, bottom + how_height, codes_width, how_height)

    signed_x = codes_x + codes_width + 4 * mm
    date_line = _set([_Run(_wareki(document.issued_on), fonts.mincho, _HOUSEHOLD_PT)], 60 * mm)
    _draw_lines(canvas, date_line, signed_x, bottom + 27 * mm, 60 * mm, 6 * mm)
    seal_x = _RIGHT - _SEAL_SIZE
    mayor_width = seal_x - 3 * mm - signed_x
    mayor = _set(
        [_Run(f"{document.mayor_title}　{document.mayor_name}", fonts.mincho, 13, spacing=0.15)],
        mayor_width,
    )
    seal_top = bottom + _SEAL_SIZE
    _draw_lines(canvas, mayor, signed_x, seal_top, mayor_width, _SEAL_SIZE, align="right")
    canvas.saveState()
    canvas.setStrokeColor(_SEAL_GREY)
    canvas.setFillColor(_SEAL_GREY)
    canvas.setLineWidth(0.8)
    canvas.setDash(2, 1.5)
    canvas.rect(seal_x, bottom, _SEAL_SIZE, _SEAL_SIZE, stroke=1, fill=0)
    seal = _set([_Run("（公印）", fonts.mincho, _SMALL_PT)], _SEAL_SIZE)
    _draw_lines(canvas, seal, seal_x, seal_top, _SEAL_SIZE, _SEAL_SIZE, align="center")
    canvas.restoreState()


def _draw_foot_line(canvas: Canvas, text: str, fonts: _Fonts, top: float) -> None:
    lines = _set([_Run(text, fonts.mincho, _VALUE_PT)], _WIDTH)
    _draw_lines(canvas, lines, _LEFT, top, _WIDTH, _FOOT_LINE, align="right")


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
    """The certificate as PDF: A4 portrait, 明朝 body, digits in ゴシック, dates in 和暦."""
    if document.verification_code is None:
        raise ValueError("照合番号のない証明書は印刷できません (seal を先に呼んでください)")
    with _RENDER_LOCK:
        fonts = _Fonts(mincho=_font(mincho, "mincho"), gothic=_font(gothic, "gothic"))
        # Binary (Flate only) streams: ASCII85 on top, reportlab's default, makes the file
        # a quarter larger and costs time for nothing a PDF reader needs.
        a85, rl_config.useA85 = rl_config.useA85, 0
        try:
            return _render(document, fonts)
        finally:
            rl_config.useA85 = a85


def _render(document: CertificateDocument, fonts: _Fonts) -> bytes:
    household = _household_table(document, fonts)
    household_top = _TOP - 11 * mm
    body_top = household_top - household.height - 3 * mm
    pages = _paginate(document, fonts, body_top)
    if len(pages) != sheet_count(document):
        # The 交付履歴 records sheet_count() as 枚数; an item long enough to push a sheet
        # over one page makes that wrong, so operations must hear of it (標準仕様 §4.4
        # overflow: alert).
        log.warning(
            "certificate overflowed: %d pages for %d sheets", len(pages), sheet_count(document)
        )
    buffer = io.BytesIO()
    # invariant: no creation time or random file id, so the same document gives the same
    # bytes; the title names the kind only (no personal data in the metadata).
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=True,
        pageCompression=1,
        lang="ja",
        initialFontName=fonts.mincho,  # not reportlab's Helvetica, which nothing here uses
        initialFontSize=_VALUE_PT,
    )
    canvas.setTitle(document.kind.label)
    canvas.setAuthor(document.municipality)
    canvas.setCreator("Machi")
    for number, page in enumerate(pages, start=1):
        if document.demo:
            _draw_demo_marks(canvas, fonts)
        _draw_header(canvas, document, fonts, number, len(pages))
        _draw_table(canvas, household, household_top)
        y = body_top
        for table in page.persons:
            y = _draw_table(canvas, table, y) - _PERSON_GAP
        if page.blank_follows:
            _draw_foot_line(canvas, "以下余白", fonts, y + _PERSON_GAP)
        if page.attestation:
            _draw_attestation(canvas, document, fonts)
        else:
            _draw_foot_line(canvas, "（次頁へ続く）", fonts, _BOTTOM + _FOOT_LINE)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
