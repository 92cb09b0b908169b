"""Error codes of the privacy context."""

from __future__ import annotations

from enum import StrEnum


class PrivacyError(StrEnum):
    UNKNOWN_AFFAIR = "privacy.unknown_affair"
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
    INVALID_INDIVIDUAL_NUMBER = "privacy.invalid_individual_number"
    INDIVIDUAL_NUMBER_IN_USE = "privacy.individual_number_in_use"
    INDIVIDUAL_NUMBER_NOT_RECORDED = "privacy.individual_number_not_recorded"
    UNMASK_REASON_REQUIRED = "privacy.unmask_reason_required"
    UNMASK_NOTE_HAS_NUMBER = "privacy.unmask_note_has_number"
    KEY_UNAVAILABLE = "privacy.key_unavailable"
    AUDIT_CHAIN_BROKEN = "privacy.audit_chain_broken"
    AUDIT_CHECKPOINT_INVALID = "privacy.audit_checkpoint_invalid"
    SIGNING_KEY_EXPOSED = "privacy.signing_key_exposed"
    SIGNING_KEY_INVALID = "privacy.signing_key_invalid"


MESSAGES: dict[PrivacyError, str] = {
    PrivacyError.UNKNOWN_AFFAIR: "登録されていない事務です。",
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
    # Messages about a 個人番号 never contain it (nor any part of it).
    PrivacyError.INVALID_INDIVIDUAL_NUMBER: (
        "個人番号の形式が正しくありません。半角数字12桁と検査用数字を確認してください。"
    ),
    PrivacyError.INDIVIDUAL_NUMBER_IN_USE: "この個人番号は既に別の方に登録されています。",
    PrivacyError.INDIVIDUAL_NUMBER_NOT_RECORDED: "個人番号が登録されていません。",
    PrivacyError.UNMASK_REASON_REQUIRED: (
        "個人番号を表示する理由を選んでください。「その他」の場合は理由を2文字以上100文字以内で"
        "入力してください。"
    ),
    PrivacyError.UNMASK_NOTE_HAS_NUMBER: (
        "理由の欄に番号を書かないでください (12桁以上の数字は入力できません)。"
    ),
    PrivacyError.KEY_UNAVAILABLE: (
        "暗号鍵が読み込まれていません。鍵の更新後はアプリケーションを再起動してください。"
    ),
    PrivacyError.AUDIT_CHAIN_BROKEN: (
        "監査ログの連鎖に不整合があるため、チェックポイントを作成しませんでした。"
        "machi audit verify で確認し、情報セキュリティ責任者に報告してください。"
    ),
    PrivacyError.AUDIT_CHECKPOINT_INVALID: (
        "直前のチェックポイントが監査ログと一致しないため、新しいチェックポイントを作成しませんでした。"
        "machi audit verify で確認し、情報セキュリティ責任者に報告してください。"
    ),
    PrivacyError.SIGNING_KEY_EXPOSED: (
        "監査ログ署名鍵のファイルを他のユーザーが読める状態です。権限を 0600 にしてください。"
    ),
    PrivacyError.SIGNING_KEY_INVALID: "監査ログ署名鍵のファイルが Ed25519 の秘密鍵ではありません。",
}
