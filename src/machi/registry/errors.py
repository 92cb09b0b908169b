"""Error codes of the registry context. Codes are a public contract: never renamed, never
reused. Messages are for counter staff; none of them carries a personal value (a name, an
address, a number), so they can be logged and shown as they are."""

from __future__ import annotations

from enum import StrEnum


class RegistryError(StrEnum):
    # Dates of a change (異動日 / 届出日)
    NOTIFIED_ON_REQUIRED = "registry.notified_on_required"
    NOTIFIED_ON_IN_FUTURE = "registry.notified_on_in_future"
    EFFECTIVE_ON_IN_FUTURE = "registry.effective_on_in_future"
    EFFECTIVE_ON_AFTER_NOTIFIED_ON = "registry.effective_on_after_notified_on"
    EFFECTIVE_ON_BEFORE_BIRTH = "registry.effective_on_before_birth"
    EFFECTIVE_ON_AFTER_DEATH = "registry.effective_on_after_death"
    BIRTH_DATE_IN_FUTURE = "registry.birth_date_in_future"
    # Moves
    ALREADY_RESIDENT = "registry.already_resident"
    NOT_RESIDENT = "registry.not_resident"
    MOVE_WITHIN_CHANGES_OTHER_ITEMS = "registry.move_within_changes_other_items"
    MOVE_WITHIN_ADDRESS_UNCHANGED = "registry.move_within_address_unchanged"
    MOVE_OUT_NOTICE_TOO_LATE = "registry.move_out_notice_too_late"
    CARD_BASED_MOVE_IN_EXPIRED = "registry.card_based_move_in_expired"
    # Numbers
    INVALID_RESIDENT_RECORD_CODE = "registry.invalid_resident_record_code"
    INVALID_INDIVIDUAL_NUMBER = "registry.invalid_individual_number"
    PREVIOUS_NUMBER_REQUIRED = "registry.previous_number_required"
    PREVIOUS_NUMBER_MISMATCH = "registry.previous_number_mismatch"
    NUMBER_DIFFERS_FROM_CERTIFICATE = "registry.number_differs_from_certificate"
    INVALID_ADDRESSEE_NO = "registry.invalid_addressee_no"
    INVALID_RESIDENCE_CARD_NO = "registry.invalid_residence_card_no"
    # 続柄 and households
    INVALID_RELATIONSHIP = "registry.invalid_relationship"
    HOUSEHOLD_HEAD_MISSING = "registry.household_head_missing"
    HOUSEHOLD_HEAD_DUPLICATED = "registry.household_head_duplicated"
    HEAD_RELATIONSHIP_MISMATCH = "registry.head_relationship_mismatch"
    HOUSEHOLD_SPLIT_EMPTY = "registry.household_split_empty"
    HOUSEHOLD_SPLIT_WITHOUT_HEAD = "registry.household_split_without_head"
    # Items that depend on nationality
    FOREIGN_RESIDENT_CLASS_REQUIRED = "registry.foreign_resident_class_required"
    FOREIGN_RESIDENT_ITEM_MISSING = "registry.foreign_resident_item_missing"
    FOREIGN_RESIDENT_ITEM_NOT_ALLOWED = "registry.foreign_resident_item_not_allowed"
    RESIDENCE_PERIOD_EXPIRED = "registry.residence_period_expired"
    JAPANESE_ITEM_ON_FOREIGN_RESIDENT = "registry.japanese_item_on_foreign_resident"
    FOREIGN_ITEM_ON_JAPANESE_RESIDENT = "registry.foreign_item_on_japanese_resident"
    REGISTERED_DOMICILE_REQUIRED = "registry.registered_domicile_required"
    # Four-eyes (仮登録 → 決裁)
    APPROVAL_BY_REQUESTER = "registry.approval_by_requester"
    APPROVAL_NOT_PENDING = "registry.approval_not_pending"
    DRAFT_NOT_VERIFIED = "registry.draft_not_verified"
    # Requests that need a recorded approval before they run (REG-CTRL-10, -36)
    APPROVAL_REQUIRED = "registry.approval_required"
    APPROVAL_NOT_USABLE = "registry.approval_not_usable"
    LEGAL_BASIS_MISMATCH = "registry.legal_basis_mismatch"
    PURPOSE_REQUIRED = "registry.purpose_required"
    BROWSING_SCOPE_INVALID = "registry.browsing_scope_invalid"
    QUOTATION_NOT_CHECKED = "registry.quotation_not_checked"
    # 支援措置
    PROTECTION_MEASURE_BLOCKS_ISSUANCE = "registry.protection_measure_blocks_issuance"
    PROTECTION_MEASURE_BLOCKS_BROWSING = "registry.protection_measure_blocks_browsing"
    PROTECTION_MEASURE_PERIOD_INVALID = "registry.protection_measure_period_invalid"
    # 除票 retention
    REMOVED_RECORD_RETAINED = "registry.removed_record_retained"
    # Search (REG-CTRL-29)
    SEARCH_CRITERIA_INSUFFICIENT = "registry.search_criteria_insufficient"
    ADDRESS_NOT_IN_MASTER = "registry.address_not_in_master"
    MOVE_OUT_CERTIFICATE_REQUIRED = "registry.move_out_certificate_required"
    IDENTIFICATION_REQUIRED = "registry.identification_required"
    POWER_OF_ATTORNEY_REQUIRED = "registry.power_of_attorney_required"


MESSAGES: dict[RegistryError, str] = {
    RegistryError.IDENTIFICATION_REQUIRED: (
        "本人確認書類を記録してください (顔写真付きの書類1点、またはその他の書類2点)。"
    ),
    RegistryError.POWER_OF_ATTORNEY_REQUIRED: "代理人による届出・請求には委任状が必要です。",
    RegistryError.MOVE_OUT_CERTIFICATE_REQUIRED: (
        "転出証明書を受け取ったことを確認してください (国外からの転入と特例転入を除きます)。"
    ),
    RegistryError.ADDRESS_NOT_IN_MASTER: (
        "その住所は住所マスタにありません。町字と番地を確かめてください。"
    ),
    RegistryError.SEARCH_CRITERIA_INSUFFICIENT: (
        "検索には性別以外の項目を2つ以上指定してください (例: 氏名と生年月日、氏名と住所)。"
    ),
    RegistryError.NOTIFIED_ON_REQUIRED: "届出による異動です。届出日を入力してください。",
    RegistryError.NOTIFIED_ON_IN_FUTURE: "届出日に未来の日付は入力できません。",
    RegistryError.EFFECTIVE_ON_IN_FUTURE: (
        "異動日に未来の日付は入力できません (転出の予定日を除きます)。"
    ),
    RegistryError.EFFECTIVE_ON_AFTER_NOTIFIED_ON: (
        "異動日が届出日より後になっています。転出以外の届出は異動の後に行われます。"
    ),
    RegistryError.EFFECTIVE_ON_BEFORE_BIRTH: "異動日が生年月日より前になっています。",
    RegistryError.EFFECTIVE_ON_AFTER_DEATH: (
        "死亡日より後の異動は記録できません (職権修正・誤記修正・異動の取消しを除きます)。"
    ),
    RegistryError.BIRTH_DATE_IN_FUTURE: "生年月日に未来の日付は入力できません。",
    RegistryError.ALREADY_RESIDENT: (
        "既に住民として記録されています。転入ではなく転居または職権修正を確認してください。"
    ),
    RegistryError.NOT_RESIDENT: "この方は現在住民として記録されていません。",
    RegistryError.MOVE_WITHIN_CHANGES_OTHER_ITEMS: (
        "転居では住所・世帯に関する項目以外は変更できません。"
        "氏名等の変更は職権修正として別に処理してください。"
    ),
    RegistryError.MOVE_WITHIN_ADDRESS_UNCHANGED: "転居ですが住所(方書を含む)が変わっていません。",
    RegistryError.MOVE_OUT_NOTICE_TOO_LATE: (
        "転出した日から14日を過ぎているため転出届として受け付けられません。職権消除として処理してください。"
    ),
    RegistryError.CARD_BASED_MOVE_IN_EXPIRED: (
        "転入届の特例の期限 (転入した日から14日、転出予定日から30日) を過ぎています。"
        "転出証明書による転入届として処理してください。"
    ),
    RegistryError.INVALID_RESIDENT_RECORD_CODE: "住民票コードは半角数字11桁です。",
    RegistryError.INVALID_INDIVIDUAL_NUMBER: (
        "個人番号の形式が正しくありません。半角数字12桁と検査用数字を確認してください。"
    ),
    RegistryError.INVALID_ADDRESSEE_NO: "宛名番号の検査数字が正しくありません。",
    RegistryError.INVALID_RESIDENCE_CARD_NO: (
        "在留カード等の番号は英字2桁・数字8桁・英字2桁の12桁です (半角英大文字)。"
    ),
    RegistryError.INVALID_RELATIONSHIP: (
        "続柄が標準の表記ではありません (世帯主、妻、子、子の妻、縁故者、同居人 等)。"
    ),
    RegistryError.HOUSEHOLD_HEAD_MISSING: "世帯主がいません。世帯主を1人指定してください。",
    RegistryError.HOUSEHOLD_HEAD_DUPLICATED: "世帯主が2人以上います。世帯主は1世帯に1人です。",
    RegistryError.HEAD_RELATIONSHIP_MISMATCH: (
        "世帯主として指定した方の続柄が「世帯主」ではありません。"
    ),
    RegistryError.HOUSEHOLD_SPLIT_EMPTY: "世帯分離では、分離する方と残る方の両方が必要です。",
    RegistryError.HOUSEHOLD_SPLIT_WITHOUT_HEAD: (
        "世帯分離の後、世帯主のいない世帯ができます。両方の世帯に世帯主を1人ずつ指定してください。"
    ),
    RegistryError.FOREIGN_RESIDENT_CLASS_REQUIRED: (
        "外国人住民です。法第30条の45に規定する区分を選んでください。"
    ),
    RegistryError.FOREIGN_RESIDENT_ITEM_MISSING: (
        "法第30条の45の区分に必要な項目 (在留資格・在留期間・満了日・在留カード等の番号 等) が"
        "不足しています。"
    ),
    RegistryError.FOREIGN_RESIDENT_ITEM_NOT_ALLOWED: (
        "法第30条の45の区分では記載しない項目が入力されています。"
    ),
    RegistryError.RESIDENCE_PERIOD_EXPIRED: "在留期間等の満了の日が異動日より前になっています。",
    RegistryError.JAPANESE_ITEM_ON_FOREIGN_RESIDENT: (
        "外国人住民には本籍・筆頭者・旧氏を記載しません。"
    ),
    RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT: (
        "日本人住民には通称・国籍・在留資格等の外国人住民の項目を記載しません。"
    ),
    RegistryError.REGISTERED_DOMICILE_REQUIRED: (
        "本籍を入力してください。本籍がない方・不明な方は「なし」「不明」と入力します。"
    ),
    RegistryError.APPROVAL_BY_REQUESTER: (
        "仮登録をした職員は自分で決裁できません。別の職員が決裁してください。"
    ),
    RegistryError.APPROVAL_NOT_PENDING: "この仮登録は既に決裁または破棄されています。",
    RegistryError.DRAFT_NOT_VERIFIED: (
        "仮登録の内容を届出書・資料と照合し、「照合済」にしてから決裁してください。"
    ),
    RegistryError.PREVIOUS_NUMBER_REQUIRED: (
        "個人番号の変更には、変更前の個人番号も入力してください"
        " (通知カード・個人番号カード等で確認)。"
    ),
    RegistryError.NUMBER_DIFFERS_FROM_CERTIFICATE: (
        "入力した個人番号が転出証明書に記載の個人番号と一致しません。"
        "個人番号カード等と転出証明書を確認してください。"
    ),
    RegistryError.PREVIOUS_NUMBER_MISMATCH: (
        "変更前の個人番号が記録と一致しません。提示された書類を確認してください。"
    ),
    RegistryError.APPROVAL_REQUIRED: (
        "この処理には事前の決裁が必要です。請求を受け付けて決裁を受け、その承認番号を"
        "入力してください。"
    ),
    RegistryError.APPROVAL_NOT_USABLE: (
        "この承認番号は使えません。決裁前・破棄済み・使用済みか、処理の種類または"
        "対象者が承認と異なります。"
    ),
    RegistryError.LEGAL_BASIS_MISMATCH: "請求者の種別と法令上の根拠が合っていません。",
    RegistryError.PURPOSE_REQUIRED: "利用目的と請求者を入力してください。",
    RegistryError.QUOTATION_NOT_CHECKED: (
        "除票から引用した項目を届出書・本人確認書類と照合し、照合済みにしてください。"
    ),
    RegistryError.BROWSING_SCOPE_INVALID: (
        "閲覧の範囲 (町字、年齢の範囲、性別) を正しく指定してください。"
    ),
    RegistryError.PROTECTION_MEASURE_BLOCKS_ISSUANCE: (
        "支援措置の対象者が含まれるため交付できません。支援措置の担当者に確認してください。"
    ),
    RegistryError.PROTECTION_MEASURE_BLOCKS_BROWSING: (
        "支援措置の対象者は住民基本台帳の一部の写しの閲覧の対象になりません。"
    ),
    RegistryError.PROTECTION_MEASURE_PERIOD_INVALID: (
        "支援措置の終了日が開始日より前になっています。"
    ),
    RegistryError.REMOVED_RECORD_RETAINED: (
        "除票は消除の日から150年間保存します。保存期間中は削除できません。"
    ),
}
