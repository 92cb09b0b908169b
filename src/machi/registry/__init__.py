"""住民基本台帳 (resident registry): residents, households, their history (履歴) with
validity dates, the address master, four-eyes drafts (仮登録), 支援措置 and the certificate
issuance log. Schema ``registry``; 個人番号 lives in the privacy vault, keyed by resident id."""
