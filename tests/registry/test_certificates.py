"""Certificates (machi.registry.certificates): what is printed, what is left out (DISP-05),
the verification code, and the PDF itself. Documents are built by hand from fictitious
people and places; nothing touches the database. Expected 和暦 dates are worked out by hand:
1985-04-03 is 昭和60年 (1985 − 1926 + 1), 2026-11-30 is 令和8年 (2026 − 2019 + 1). The PDF is
read back as text (pypdf and poppler's pdftotext), as words with their boxes (pdftotext
-bbox) and, for the QR code, as the image it embeds."""

from __future__ import annotations

import dataclasses
import functools
import html
import logging
import re
import subprocess
from datetime import date
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import qrcode
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from machi.core.numbers import individual_number_check_digit
from machi.registry import certificates as c
from machi.registry.certificates import (
    CertificateDocument,
    CertificateKind,
    CertificateOptions,
    CertificatePerson,
    ForeignResidentItems,
    RemovalFacts,
)
from machi.registry.rules import ChangeReason, ForeignResidentClass

SECRET = bytes(range(32))
ISSUED_ON = date(2026, 11, 30)
ISSUANCE_NO = "20261130 架空市 本庁1 プリンタ001 011"
BASE_URL = "https://machi.example.jp"
ADDRESS = "架空県架空市中央三丁目12番5号"
BUILDING = "架空ハイツ101号"
DOMICILE = "架空県架空市見本町一丁目100番地"
ATTESTATION = "この写しは、住民票の原本と相違ないことを証明する。"
CODE_FORMAT = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")
ALL_ITEMS = CertificateOptions(
    whole_household=True,
    include_relationship=True,
    include_registered_domicile=True,
    include_individual_number=True,
    include_resident_record_code=True,
    include_foreign_items=True,
)
HOUSEHOLD = CertificateOptions(whole_household=True)


def number(first11: str) -> str:
    return first11 + str(individual_number_check_digit(first11))


TARO_NUMBER = number("12345678901")
HANAKO_NUMBER = number("23456789012")
TARO = CertificatePerson(
    name="架空　太郎",
    name_kana="カクウ　タロウ",
    birth_date=date(1985, 4, 3),
    sex=1,
    relationship="head",
    became_resident_on=date(2015, 4, 1),
    address_set_on=date(2020, 6, 1),
    address_notified_on=date(2020, 6, 5),
    previous_address="架空県見本市南町二丁目3番4号",
    registered_domicile=DOMICILE,
    family_register_head="架空　太郎",
    individual_number=TARO_NUMBER,
    resident_record_code="10000000001",
)
HANAKO = CertificatePerson(
    name="架空　花子",
    name_kana="カクウ　ハナコ",
    former_surname="見本",
    birth_date=date(1987, 12, 24),
    sex=2,
    relationship="wife",
    became_resident_on=date(2015, 4, 1),
    address_set_on=date(2020, 6, 1),
    address_notified_on=date(2020, 6, 5),
    previous_address="架空県見本市南町二丁目3番4号",
    registered_domicile=DOMICILE,
    family_register_head="架空　太郎",
    individual_number=HANAKO_NUMBER,
    resident_record_code="10000000002",
)


def child(i: int) -> CertificatePerson:
    born = date(2000 + i, 1 + i % 12, 1 + i)
    return CertificatePerson(
        name=f"架空　子{i:02d}",
        name_kana=f"カクウ　コ{i:02d}",
        birth_date=born,
        sex=1 + i % 2,
        relationship="child",
        became_resident_on=born,
        address_set_on=date(2020, 6, 1),
        registered_domicile=DOMICILE,
        family_register_head="架空　太郎",
        individual_number=number(f"3456789{i:04d}"),
        resident_record_code=f"2000000{i:04d}",
    )


def foreigner(i: int) -> CertificatePerson:
    return CertificatePerson(
        name=f"グエン　ヴァン　アン{i}",
        name_kana=f"グエン　ヴァン　アン{i}",
        alias_name=f"架空　安{i}",
        birth_date=date(1990 + i, 2, 10),
        sex=1 + i % 2,
        relationship="cohabitant",
        became_foreign_resident_on=date(2022, 4, 1),
        address_set_on=date(2023, 5, 1),
        address_notified_on=date(2023, 5, 8),
        previous_address="国外（ベトナム）",
        individual_number=number(f"4567890{i:04d}"),
        resident_record_code=f"3000000{i:04d}",
        foreign=ForeignResidentItems(
            nationality="ベトナム",
            resident_class=ForeignResidentClass.MID_TO_LONG_TERM,
            residence_status="技術・人文知識・国際業務",
            residence_period="5年",
            residence_expires_on=date(2027, 3, 31),
            residence_card_no=f"AB{i:08d}CD",
        ),
    )


def document(
    persons: tuple[CertificatePerson, ...] = (TARO, HANAKO),
    options: CertificateOptions = HOUSEHOLD,
    *,
    kind: CertificateKind = CertificateKind.RESIDENT_RECORD_COPY,
    issuance_no: str = ISSUANCE_NO,
    demo: bool = False,
) -> CertificateDocument:
    draft = c.build_document(
        kind=kind,
        options=options,
        municipality="架空市",
        mayor_title="架空市長",
        mayor_name="見本　一郎",
        issuance_no=issuance_no,
        issued_on=ISSUED_ON,
        address=ADDRESS,
        building=BUILDING,
        household_head="架空　太郎",
        persons=persons,
        verify_base_url=BASE_URL,
        demo=demo,
    )
    return c.seal(draft, SECRET)


def removed_taro() -> CertificateDocument:
    person = dataclasses.replace(
        TARO,
        removal=RemovalFacts(
            removed_on=date(2026, 10, 1),
            reason=ChangeReason.DOMESTIC_MOVE_OUT,
            notified_on=date(2026, 9, 25),
            destination="架空県遠方市北町一丁目2番3号",
        ),
    )
    return document((person,), CertificateOptions(), kind=CertificateKind.REMOVED_RECORD_COPY)


@functools.cache
def pdf_of(doc: CertificateDocument) -> bytes:
    return c.render_pdf(doc)


def page_texts(pdf: bytes) -> list[str]:
    """Text of each page with all whitespace removed (PDF extraction puts spaces and line
    breaks where the layout has gaps, and names carry an ideographic space)."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- what is printed ---------------------------------------------------------------------


def test_copy_prints_the_record_items_with_wareki_dates(tmp_path: Path) -> None:
    doc = document(options=dataclasses.replace(ALL_ITEMS, include_individual_number=False))
    pdf = pdf_of(doc)
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    # Content-stream order (-raw): a value that wraps inside its cell stays in one piece.
    poppler = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    for text in ("".join(page_texts(pdf)), squeezed(poppler)):
        for expected in (
            "住民票の写し",
            "世帯全員",
            "架空太郎",
            "カクウタロウ",
            "架空花子",
            "旧氏見本",
            squeezed(ADDRESS + BUILDING),
            "世帯主",
            "妻",
            "昭和60年4月3日",  # 1985-04-03
            "昭和62年12月24日",
            "平成27年4月1日",  # became resident 2015-04-01
            "令和2年6月1日",  # 住所を定めた年月日
            "届出年月日令和2年6月5日",
            "架空県見本市南町二丁目3番4号",
            "男",
            "女",
            squeezed(DOMICILE),
            "10000000001",
            ATTESTATION,
            "令和8年11月30日",  # issued 2026-11-30
            "架空市長見本一郎",
            squeezed(ISSUANCE_NO),
            doc.verification_code,
            "以下余白",
        ):
            assert expected in text, expected


def test_individual_number_is_printed_only_when_requested() -> None:
    # DISP-05 / REG-CTRL-31: left out entirely (no label, no mask) unless asked for.
    default = document()
    text = "".join(page_texts(pdf_of(default)))
    assert "個人番号" not in text
    assert TARO_NUMBER not in text and HANAKO_NUMBER not in text
    assert all(p.individual_number is None for p in default.persons)

    asked = document(options=CertificateOptions(include_individual_number=True))
    text = "".join(page_texts(pdf_of(asked)))
    assert "個人番号" in text
    assert TARO_NUMBER in text and HANAKO_NUMBER in text


def test_optional_items_are_absent_unless_requested() -> None:
    text = "".join(page_texts(pdf_of(document())))
    for absent in (
        "本籍",
        "筆頭者",
        squeezed(DOMICILE),
        "住民票コード",
        "10000000001",
        "続柄",
        "世帯主",
    ):
        assert absent not in text, absent
    # The base items are there all the same.
    assert "架空太郎" in text and "昭和60年4月3日" in text and "転入前住所" in text

    text = "".join(
        page_texts(pdf_of(document(options=CertificateOptions(include_registered_domicile=True))))
    )
    assert "本籍" in text and squeezed(DOMICILE) in text and "筆頭者" in text
    assert "住民票コード" not in text and "続柄" not in text


def test_document_refuses_items_the_request_did_not_ask_for() -> None:
    # A caller that builds the document itself cannot slip a number onto the paper.
    doc = document()
    for item in (
        {"individual_number": TARO_NUMBER},
        {"registered_domicile": DOMICILE},
        {"resident_record_code": "10000000001"},
        {"relationship": "head"},
    ):
        with pytest.raises(ValueError, match="請求のない事項"):
            dataclasses.replace(doc, persons=(dataclasses.replace(doc.persons[0], **item),))
    with pytest.raises(ValueError, match="世帯主"):
        dataclasses.replace(doc, household_head="架空　太郎")


def test_removed_record_copy_shows_the_removal() -> None:
    doc = removed_taro()
    text = "".join(page_texts(pdf_of(doc)))
    for expected in (
        "住民票の除票の写し",
        "この写しは、住民票の除票の原本と相違ないことを証明する。",
        "消除年月日",
        "令和8年10月1日",
        "消除事由",
        "転出",
        "令和8年9月25日",
        "架空県遠方市北町一丁目2番3号",
        "架空太郎",
    ):
        assert expected in text, expected
    assert "世帯全員" not in text and "世帯一部" not in text


def test_removed_record_copy_is_one_person_with_removal_facts() -> None:
    doc = removed_taro()
    with pytest.raises(ValueError, match="1人ずつ"):
        dataclasses.replace(doc, persons=(doc.persons[0], doc.persons[0]))
    with pytest.raises(ValueError, match="消除"):
        dataclasses.replace(doc, persons=(TARO,))
    with pytest.raises(ValueError, match="消除"):
        dataclasses.replace(document(), persons=(doc.persons[0],))
    with pytest.raises(ValueError, match="消除事由"):
        dataclasses.replace(
            doc.persons[0],
            removal=RemovalFacts(removed_on=date(2026, 10, 1), reason=ChangeReason.MOVE_WITHIN),
        )


def test_statement_certificate_has_its_own_title_and_attestation() -> None:
    doc = document(
        options=CertificateOptions(whole_household=False),
        kind=CertificateKind.RECORD_STATEMENT_CERTIFICATE,
    )
    text = "".join(page_texts(pdf_of(doc)))
    assert "住民票記載事項証明書" in text and "世帯一部" in text
    assert "上記の事項は、住民票に記載されていることを証明する。" in text
    assert ATTESTATION not in text


def test_foreign_resident_items_are_printed_on_request() -> None:
    person = foreigner(1)
    text = "".join(page_texts(pdf_of(document((person,), ALL_ITEMS))))
    for expected in (
        "通称架空安1",
        "外国人住民となった年月日",
        "令和4年4月1日",
        "国籍・地域",
        "ベトナム",
        "中長期在留者",
        "技術・人文知識・国際業務",
        "令和9年3月31日",
        "AB00000001CD",
    ):
        assert expected in text, expected
    assert "住民となった年月日" not in text.replace("外国人住民となった年月日", "")

    text = "".join(page_texts(pdf_of(document((person,)))))
    assert "ベトナム" in text  # 転入前住所 「国外（ベトナム）」 is a base item
    assert "国籍・地域" not in text and "AB00000001CD" not in text


# -- verification code -------------------------------------------------------------------


def test_verification_code_recomputes_from_number_and_digest() -> None:
    doc = document()
    unsealed = dataclasses.replace(doc, verification_code=None)
    digest = c.content_digest(unsealed)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert doc.verification_code == c.verification_code(SECRET, ISSUANCE_NO, digest)
    assert CODE_FORMAT.fullmatch(doc.verification_code)
    # The code and the page origin are not content: sealing or moving the page keeps it.
    assert c.content_digest(doc) == digest
    assert c.content_digest(dataclasses.replace(doc, verify_base_url="https://x.example")) == digest


def test_content_digest_covers_every_printed_item() -> None:
    doc = document()
    base = c.content_digest(doc)
    changed = [
        dataclasses.replace(
            doc, persons=(dataclasses.replace(doc.persons[0], name="架空　次郎"), doc.persons[1])
        ),
        dataclasses.replace(
            doc,
            persons=(
                dataclasses.replace(doc.persons[0], birth_date=date(1985, 4, 4)),
                doc.persons[1],
            ),
        ),
        dataclasses.replace(doc, address="架空県架空市中央三丁目12番6号"),
        dataclasses.replace(doc, issued_on=date(2026, 12, 1)),
        dataclasses.replace(doc, mayor_name="見本　二郎"),
        dataclasses.replace(doc, demo=True),
        dataclasses.replace(doc, options=CertificateOptions(whole_household=False)),
        dataclasses.replace(doc, kind=CertificateKind.RECORD_STATEMENT_CERTIFICATE),
    ]
    digests = {c.content_digest(d) for d in changed}
    assert base not in digests and len(digests) == len(changed)


@given(
    no=st.text(min_size=1, max_size=60).filter(str.strip),
    other=st.text(min_size=1, max_size=60).filter(str.strip),
    digest=st.binary(min_size=32, max_size=32).map(bytes.hex),
    other_digest=st.binary(min_size=32, max_size=32).map(bytes.hex),
)
def test_code_changes_with_issuance_no_and_digest(
    no: str, other: str, digest: str, other_digest: str
) -> None:
    code = c.verification_code(SECRET, no, digest)
    assert CODE_FORMAT.fullmatch(code)
    assert code == c.verification_code(SECRET, no, digest)
    if other != no:
        assert c.verification_code(SECRET, other, digest) != code
    if other_digest != digest:
        assert c.verification_code(SECRET, no, other_digest) != code
    assert c.verification_code(bytes(32), no, digest) != code
    assert c.verification_code_matches(code, c.verification_code_hash(code))


def test_code_hash_accepts_what_people_type() -> None:
    code = document().verification_code
    assert code is not None
    stored = c.verification_code_hash(code)
    assert len(stored) == 32
    plain = code.replace("-", "")
    typed = [
        plain.lower(),
        " ".join(code.split("-")),
        plain.translate(str.maketrans({"0": "O", "1": "l"})),
        "".join(chr(ord(ch) + 0xFEE0) for ch in plain),  # full-width
    ]
    for entered in typed:
        assert c.verification_code_matches(entered, stored), entered
    wrong = ("0" if plain[0] != "0" else "1") + plain[1:]
    for entered in (wrong, plain[:-1], "", "U" * 16, code + "A"):
        assert not c.verification_code_matches(entered, stored), entered


def test_code_needs_a_real_key_and_a_sha256_digest() -> None:
    digest = "0" * 64
    with pytest.raises(ValueError):
        c.verification_code(b"short", ISSUANCE_NO, digest)
    with pytest.raises(ValueError):
        c.verification_code(SECRET, ISSUANCE_NO, "abc")


def test_verification_url_carries_number_and_code() -> None:
    doc = document()
    assert doc.verification_code is not None
    url = c.verification_url(BASE_URL + "/", ISSUANCE_NO, doc.verification_code.lower())
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE_URL + "/certificates/verify"
    assert parse_qs(parts.query) == {"no": [ISSUANCE_NO], "code": [doc.verification_code]}


def qr_modules(url: str) -> list[list[bool]]:
    """The modules of a QR code of ``url`` as the module docstring specifies it (level M,
    4-module quiet zone), from the qrcode package's encoder: True is dark."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return [[bool(m) for m in row] for row in qr.get_matrix()]


def test_qr_code_on_the_paper_encodes_the_verification_url() -> None:
    doc = document()
    assert doc.verification_code is not None
    url = c.verification_url(BASE_URL, ISSUANCE_NO, doc.verification_code)
    expected = qr_modules(url)
    images = PdfReader(BytesIO(pdf_of(doc))).pages[-1].images
    assert len(images) == 1
    image = images[0].image.convert("L")
    assert image.width == image.height
    size = len(expected)
    module = image.width / size
    assert module >= 1 and module == int(module), (image.width, size)
    printed = [
        [
            image.getpixel((int((x + 0.5) * module), int((y + 0.5) * module))) < 128
            for x in range(size)
        ]
        for y in range(size)
    ]
    assert printed == expected
    assert qr_modules(url.replace("code=", "code=X")) != printed


def test_unsealed_document_is_not_rendered() -> None:
    with pytest.raises(ValueError, match="照合番号"):
        c.render_pdf(dataclasses.replace(document(), verification_code=None))


# -- the PDF -----------------------------------------------------------------------------


def test_pdf_is_valid_with_the_ipaex_fonts_embedded() -> None:
    pdf = pdf_of(document())
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width == pytest.approx(210 / 25.4 * 72, abs=0.5)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(297 / 25.4 * 72, abs=0.5)
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():  # type: ignore[index]
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert any("IPAexMincho" in f for f in fonts), fonts.keys()
    assert any("IPAexGothic" in f for f in fonts), fonts.keys()
    for font in fonts.values():  # embedded (a subset), so the paper looks the same anywhere
        assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]
    # No creation time or random file id: the same document gives the same bytes.
    assert c.render_pdf(document()) == pdf


def test_household_of_twelve_spans_three_sheets_cleanly() -> None:
    persons = (TARO, HANAKO, *(child(i) for i in range(10)))
    doc = document(persons, ALL_ITEMS)
    pages = page_texts(pdf_of(doc))
    assert len(pages) == c.sheet_count(doc) == 3
    # By フリガナ: the head's name is also on every sheet as 世帯主 and 筆頭者.
    names = [squeezed(p.name_kana or "") for p in persons]
    for index, text in enumerate(pages):
        assert f"発行番号{squeezed(ISSUANCE_NO)}{index + 1}/3" in text
        assert f"照合番号{doc.verification_code}" in text  # each sheet can be checked alone
        assert "住民票の写し" in text and squeezed(ADDRESS) in text  # header on every sheet
        on_page = {n for n in names if n in text}
        assert on_page == set(names[index * 4 : index * 4 + 4]), index
        last = index == len(pages) - 1
        assert (ATTESTATION in text) is last
        assert ("以下余白" in text) is last
        assert ("次頁へ続く" in text) is not last


def test_four_persons_with_every_item_fit_on_one_sheet() -> None:
    # The longest persons there are: 外国人住民 with every item, plus the 認証文 and QR code.
    doc = document(tuple(foreigner(i) for i in range(4)), ALL_ITEMS)
    assert len(PdfReader(BytesIO(pdf_of(doc))).pages) == c.sheet_count(doc) == 1
    doc = document(tuple(foreigner(i) for i in range(5)), ALL_ITEMS)
    assert len(PdfReader(BytesIO(pdf_of(doc))).pages) == c.sheet_count(doc) == 2


def test_demo_paper_says_so_on_every_page() -> None:
    persons = (TARO, HANAKO, *(child(i) for i in range(3)))
    banner = "デモ環境—架空の住民の証明書です"
    pages = page_texts(pdf_of(document(persons, demo=True)))
    assert len(pages) == 2
    assert all(banner in text for text in pages)
    assert not any(banner in text for text in page_texts(pdf_of(document(persons))))


def test_pdf_renders_without_the_font_files(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="machi.registry.certificates"):
        pdf = c.render_pdf(document(), mincho=(), gothic=())
    assert pdf.startswith(b"%PDF-") and len(PdfReader(BytesIO(pdf)).pages) >= 1
    assert "font not found" in caplog.text
    assert "架空" not in caplog.text  # no personal value in the log


def test_issuance_no_is_printed_as_given_whatever_it_contains() -> None:
    # Parentheses and backslashes delimit and escape PDF strings; they must come out as text.
    no = "20261130 (x) \\) (偽 %"
    pages = page_texts(pdf_of(document(issuance_no=no)))
    assert len(pages) == 1
    assert f"発行番号{squeezed(no)}1/1" in pages[0]


def words(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word poppler finds, with its box (text, xMin, yMin, xMax, yMax in pt, y down)."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        xhtml,
    )
    return [
        (html.unescape(t), float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, t in found
    ]


LONG_ADDRESS = "架空県見本市南町二丁目3番4号見本マンション南棟1203号室（旧見本荘）" * 2
LONG_DOMICILE = "架空県架空市見本町一丁目100番地の先、見本川河川敷の旧見本村字見本" * 2


def test_long_values_shrink_or_wrap_inside_their_cells(tmp_path: Path) -> None:
    long = dataclasses.replace(
        TARO,
        name="架空　太郎右衛門之助左衛門",
        name_kana="カクウ　タロウエモンノスケザエモン",
        previous_address=LONG_ADDRESS,
        registered_domicile=LONG_DOMICILE,
    )
    doc = document((long, HANAKO), ALL_ITEMS)
    pdf = pdf_of(doc)
    text = "".join(page_texts(pdf))
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    # Nothing is cut off: every character of the long values is on the paper, in order.
    for value in (LONG_ADDRESS, LONG_DOMICILE, "架空太郎右衛門之助左衛門"):
        assert squeezed(value) in text, value
    boxes = words(pdf, tmp_path)
    right_margin = (210 - 15) / 25.4 * 72
    assert all(x1 <= right_margin + 0.5 for _, _, _, x1, _ in boxes)
    # The value left of a label ends before that label: no text runs over the next cell.
    for label in ("届出年月日", "筆頭者"):
        _, lx0, ly0, _, ly1 = next(b for b in boxes if b[0] == label)
        beside = [b for b in boxes if b[1] < lx0 and b[2] < ly1 and b[4] > ly0]
        assert beside, label
        assert all(x1 <= lx0 for _, _, _, x1, _ in beside), (label, beside)
    # Shrunk or wrapped, a long value stays legible (glyphs of 6 pt or more).
    pieces = [b for b in boxes if b[0] and b[0] in LONG_ADDRESS + LONG_DOMICILE]
    assert pieces and all(y1 - y0 >= 6 for _, _, y0, _, y1 in pieces)


def test_a_sheet_that_overflows_goes_on_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    persons = tuple(
        dataclasses.replace(child(i), previous_address=LONG_ADDRESS * 8) for i in range(4)
    )
    doc = document(persons, ALL_ITEMS)
    with caplog.at_level(logging.WARNING, logger="machi.registry.certificates"):
        pages = page_texts(c.render_pdf(doc))
    assert c.sheet_count(doc) == 1 and len(pages) > 1
    assert "overflowed" in caplog.text and "架空" not in caplog.text
    for index, text in enumerate(pages):
        assert f"発行番号{squeezed(ISSUANCE_NO)}{index + 1}/{len(pages)}" in text
        assert (ATTESTATION in text) is (index == len(pages) - 1)
    text = "".join(pages)
    assert all(squeezed(p.name) in text for p in persons)
    assert text.count(squeezed(LONG_ADDRESS * 8)) == 4
