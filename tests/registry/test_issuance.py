"""Certificate issuance through the service: the PDF says what the registry says, the log
keeps flags and a hash of the code, the code verifies, and a 支援措置 blocks issuance to
others (issue: registry, item 5 and 6; REG-CTRL-31, REG-CTRL-33; DISP-05)."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import vault
from machi.privacy.models import AuditEntry
from machi.registry import services
from machi.registry.certificates import CertificateKind, CertificateOptions
from machi.registry.errors import RegistryError
from machi.registry.models import CertificateIssuance
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument, RequesterType
from registry.test_services import CLERK, SUPERVISOR, family, lots, number  # noqa: F401
from support import assert_access

OFFICE = services.IssuingOffice(
    municipality="架空市",
    local_government_code="999997",
    mayor_title="架空市長",
    mayor_name="見本 太郎",
    verify_base_url="http://127.0.0.1:8000",
    demo=True,
)


def pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        done = subprocess.run(
            ["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True, check=True
        )
    return done.stdout


def request(resident_id: uuid.UUID, **options: bool) -> services.CertificateRequest:
    return services.CertificateRequest(
        resident_ids=(resident_id,),
        kind=CertificateKind.RESIDENT_RECORD_COPY,
        options=CertificateOptions(**options),
        requester_type=RequesterType.SELF,
        identification=Identification(
            ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
        ),
    )


@pytest.mark.skipif(not Path("/usr/bin/pdftotext").exists(), reason="poppler-utils missing")
def test_copy_of_the_whole_household_prints_what_the_registry_says(
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    issued = services.issue_certificate(
        rt.uow(),
        CLERK,
        rt.keys,
        OFFICE,
        request(head, whole_household=True, include_relationship=True),
    )
    text = pdf_text(issued.pdf)
    assert "架空 太郎" in text and "架空 花子" in text
    assert "架空市架空町1番地" in text.replace(" ", "").replace("　", "") or "架空町1番地" in text
    assert "昭和55年4月1日" in text  # 1980-04-01, 世帯主's birth date in 和暦
    assert "令和8年11月20日" in text  # 住民となった年月日 (the 転入 of 2026-11-20)
    assert issued.issuance_no in text
    assert "見本" in text and "太郎" in text
    with rt.uow() as uow:
        row = uow.session.scalars(select(CertificateIssuance)).one()
    assert row.issuance_no == issued.issuance_no and row.includes_relationship
    assert not row.includes_individual_number and len(row.resident_ids) == 2
    assert (
        row.verification_code_hash
        and issued.verification_code.encode() not in row.verification_code_hash
    )


def test_verification_code_checks_out_and_a_wrong_one_does_not(
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    issued = services.issue_certificate(rt.uow(), CLERK, rt.keys, OFFICE, request(head))
    ok = services.verify_certificate(
        rt.uow(), issuance_no=issued.issuance_no, code=issued.verification_code.lower()
    )
    assert ok.valid and ok.issued_on == date(2026, 11, 30) and ok.kind_label == "住民票の写し"
    wrong = "0000-0000-0000-0000"
    assert not services.verify_certificate(
        rt.uow(), issuance_no=issued.issuance_no, code=wrong
    ).valid
    assert not services.verify_certificate(
        rt.uow(), issuance_no="20261130-999997-99999999", code=issued.verification_code
    ).valid


@pytest.mark.skipif(not Path("/usr/bin/pdftotext").exists(), reason="poppler-utils missing")
def test_individual_number_is_printed_only_when_asked(
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    n = number("50000000010")
    with rt.uow() as uow:
        vault.store_number(uow, CLERK, rt.keys, head, n)
        uow.commit()
    without = services.issue_certificate(rt.uow(), CLERK, rt.keys, OFFICE, request(head))
    assert n not in pdf_text(without.pdf).replace(" ", "")
    asked = services.issue_certificate(
        rt.uow(), CLERK, rt.keys, OFFICE, request(head, include_individual_number=True)
    )
    assert n in pdf_text(asked.pdf).replace(" ", "")
    with rt.uow() as uow:
        prints = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "privacy.print_individual_number")
        ).all()
    assert len(prints) == 1 and n not in str(prints[0].detail)


def test_protection_measure_blocks_an_agent_and_alerts(
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    services.register_protection_measure(
        rt.uow(),
        SUPERVISOR,
        services.ProtectionMeasureRequest(
            applicant_id=head, requested_on=date(2026, 11, 25), valid_from=date(2026, 11, 25)
        ),
    )
    agent = services.CertificateRequest(
        resident_ids=(head,),
        kind=CertificateKind.RESIDENT_RECORD_COPY,
        options=CertificateOptions(),
        requester_type=RequesterType.AGENT,
        identification=Identification(
            ApplicantKind.AGENT, (IdentityDocument.DRIVERS_LICENSE,), power_of_attorney=True
        ),
    )
    with pytest.raises(DomainError) as e:
        services.issue_certificate(rt.uow(), CLERK, rt.keys, OFFICE, agent)
    assert e.value.code == RegistryError.PROTECTION_MEASURE_BLOCKS_ISSUANCE
    with rt.uow() as uow:
        assert uow.session.scalars(select(CertificateIssuance)).all() == []
        [denied] = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "registry.issue_certificate", AuditEntry.outcome == "denied"
            )
        ).all()
    assert denied.detail["reason"] == "protection_measure"
    # The protected person asking for their own copy is still served.
    services.issue_certificate(rt.uow(), CLERK, rt.keys, OFFICE, request(head))


def test_issue_certificate_access(rt: Runtime, lots: list[int]) -> None:  # noqa: F811
    from machi.privacy import services as privacy
    from machi.privacy.actor import Actor

    privacy.load_roles(rt.uow(), Actor.operator())
    head = family(rt, lots).resident_ids[0]
    assert_access(
        rt,
        "registry.issue_certificate",
        lambda actor, _i: services.issue_certificate(
            rt.uow(), actor, rt.keys, OFFICE, request(head)
        ),
        {("counter_clerk", "juki"), ("registry_supervisor", "juki")},
    )
