"""Error codes of the synthetic town generator."""

from __future__ import annotations

from enum import StrEnum


class SynthError(StrEnum):
    ALREADY_LOADED = "synth.already_loaded"
    INVALID_RESIDENTS = "synth.invalid_residents"
    INVALID_LOCAL_GOVERNMENT_CODE = "synth.invalid_local_government_code"


MESSAGES: dict[SynthError, str] = {
    SynthError.ALREADY_LOADED: "架空の町は投入済みです。作り直すには先に消去してください。",
    SynthError.INVALID_RESIDENTS: "住民数は1以上で指定してください。",
    SynthError.INVALID_LOCAL_GOVERNMENT_CODE: (
        "地方公共団体コードが正しくありません (6桁、検査数字付き)。"
    ),
}
