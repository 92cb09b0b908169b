"""Error codes of the privacy context."""

from __future__ import annotations

from enum import StrEnum


class PrivacyError(StrEnum):
    LOGIN_FAILED = "privacy.login_failed"
    ACCOUNT_LOCKED = "privacy.account_locked"
    SECOND_FACTOR_FAILED = "privacy.second_factor_failed"
    SESSION_INVALID = "privacy.session_invalid"
    PERMISSION_DENIED = "privacy.permission_denied"
    LOGIN_NAME_TAKEN = "privacy.login_name_taken"
    UNKNOWN_ROLE = "privacy.unknown_role"
    UNKNOWN_USER = "privacy.unknown_user"
    INVALID_ROLE_FILE = "privacy.invalid_role_file"
    WEAK_PASSWORD = "privacy.weak_password"  # noqa: S105 — an error code, not a secret


MESSAGES: dict[PrivacyError, str] = {
    # One message for unknown user and wrong password, so login names cannot be probed.
    PrivacyError.LOGIN_FAILED: "ログインIDまたはパスワードが正しくありません。",
    PrivacyError.ACCOUNT_LOCKED: (
        "このアカウントはロックされています。システム管理者に解除を依頼してください。"
    ),
    PrivacyError.SECOND_FACTOR_FAILED: "確認コードが正しくありません。",
    PrivacyError.SESSION_INVALID: "セッションが無効です。もう一度ログインしてください。",
    PrivacyError.PERMISSION_DENIED: "この操作を行う権限がありません。",
    PrivacyError.LOGIN_NAME_TAKEN: "このログインIDは既に使われています。",
    PrivacyError.UNKNOWN_ROLE: "登録されていないロールです。",
    PrivacyError.UNKNOWN_USER: "登録されていない職員です。",
    PrivacyError.INVALID_ROLE_FILE: (
        "ロール定義ファイルの形式が正しくないか、存在しない権限名が含まれています。"
    ),
    PrivacyError.WEAK_PASSWORD: "パスワードは12文字以上で、英字と数字を含めてください。",
}
