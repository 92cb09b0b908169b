"""The access-rights matrix (アクセス権限と業務の対応表, controls.md AUTHZ-02): which
permissions exist, in which affairs (事務) each may be used, and which affairs may use the
個人番号 at all.

Permissions are named ``<context>.<action>``. A permission not listed here does not exist,
so nothing can be granted or checked by a misspelt name.
"""

from __future__ import annotations

from enum import StrEnum


class Affair(StrEnum):
    """A unit of legally defined work; every grant and every action happens in one."""

    JUKI = "juki"  # 住民基本台帳に関する事務
    NHI = "nhi"  # 国民健康保険に関する事務
    TAX_COLLECTION = "tax_collection"  # 地方税の収滞納管理に関する事務
    PRIVACY = "privacy"  # 個人情報保護・監査
    ADMIN = "admin"  # システム管理


AFFAIR_NAMES: dict[Affair, str] = {
    Affair.JUKI: "住民基本台帳事務",
    Affair.NHI: "国民健康保険事務",
    Affair.TAX_COLLECTION: "地方税収滞納管理事務",
    Affair.PRIVACY: "個人情報保護・監査",
    Affair.ADMIN: "システム管理",
}

# 個人番号利用事務 (番号法 第9条 第1項 別表): only these affairs may use or see the number
# (controls.md AUTHZ-05, AUTHZ-08, DISP-01).
NUMBER_USE_AFFAIRS: frozenset[Affair] = frozenset({Affair.JUKI, Affair.NHI, Affair.TAX_COLLECTION})


class Permission(StrEnum):
    PRIVACY_MANAGE_USERS = "privacy.manage_users"
    PRIVACY_MANAGE_ROLES = "privacy.manage_roles"
    PRIVACY_VIEW_AUDIT_LOG = "privacy.view_audit_log"
    PRIVACY_VERIFY_AUDIT_LOG = "privacy.verify_audit_log"
    PRIVACY_ROTATE_KEYS = "privacy.rotate_keys"
    # Seeing a 個人番号 unmasked is its own right (AUTHZ-05).
    PRIVACY_VIEW_INDIVIDUAL_NUMBER = "privacy.view_individual_number"
    # Bulk export of personal data is its own right (AUTHZ-12, MEDIA).
    PRIVACY_BULK_EXPORT = "privacy.bulk_export"
    SYNTH_LOAD_TOWN = "synth.load_town"
    # 住民基本台帳 (registry)
    REGISTRY_VIEW = "registry.view"  # search residents, read records and history
    REGISTRY_RECORD_CHANGE = "registry.record_change"  # 異動 on a notice (届出)
    REGISTRY_REQUEST_EX_OFFICIO = "registry.request_ex_officio"  # draft a 職権 entry/correction
    REGISTRY_APPROVE = "registry.approve"  # the second person of four-eyes
    REGISTRY_ISSUE_CERTIFICATE = "registry.issue_certificate"
    REGISTRY_MANAGE_PROTECTION = "registry.manage_protection"  # 支援措置
    REGISTRY_BULK_LOAD = "registry.bulk_load"  # CSV import / bulk 異動 / town import
    REGISTRY_EXPORT = "registry.export"  # CSV export (a bulk export of personal data)
    REGISTRY_STATISTICS = "registry.statistics"  # 人口統計: counts only (REG-CTRL-34)
    REGISTRY_BROWSING = "registry.browsing"  # 閲覧 of the 4 items, on an approved 申出


# Where each permission may be exercised. A permission missing here is usable nowhere.
PERMISSION_AFFAIRS: dict[Permission, frozenset[Affair]] = {
    Permission.PRIVACY_MANAGE_USERS: frozenset({Affair.ADMIN}),
    Permission.PRIVACY_MANAGE_ROLES: frozenset({Affair.ADMIN}),
    Permission.PRIVACY_VIEW_AUDIT_LOG: frozenset({Affair.PRIVACY}),
    Permission.PRIVACY_VERIFY_AUDIT_LOG: frozenset({Affair.PRIVACY, Affair.ADMIN}),
    Permission.PRIVACY_ROTATE_KEYS: frozenset({Affair.ADMIN}),
    Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER: NUMBER_USE_AFFAIRS,
    Permission.PRIVACY_BULK_EXPORT: frozenset(Affair),
    Permission.SYNTH_LOAD_TOWN: frozenset({Affair.ADMIN}),
    Permission.REGISTRY_VIEW: frozenset({Affair.JUKI}),
    Permission.REGISTRY_RECORD_CHANGE: frozenset({Affair.JUKI}),
    Permission.REGISTRY_REQUEST_EX_OFFICIO: frozenset({Affair.JUKI}),
    Permission.REGISTRY_APPROVE: frozenset({Affair.JUKI}),
    Permission.REGISTRY_ISSUE_CERTIFICATE: frozenset({Affair.JUKI}),
    Permission.REGISTRY_MANAGE_PROTECTION: frozenset({Affair.JUKI}),
    Permission.REGISTRY_BULK_LOAD: frozenset({Affair.JUKI, Affair.ADMIN}),
    Permission.REGISTRY_EXPORT: frozenset({Affair.JUKI, Affair.ADMIN}),
    Permission.REGISTRY_STATISTICS: frozenset({Affair.JUKI}),
    Permission.REGISTRY_BROWSING: frozenset({Affair.JUKI}),
}


def parse_permission(name: str) -> Permission:
    try:
        return Permission(name)
    except ValueError:
        raise ValueError(f"unknown permission: {name}") from None
