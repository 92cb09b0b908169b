"""Pure generators of the synthetic town: distributions, names, addresses, households, life
events, incomes and bank accounts. No I/O, no clock, no global random state: every choice
comes from a ``random.Random`` seeded from the town seed, so one seed gives one town.

Everything here is invented. Names are built from common kanji/kana parts (plus the weighted
name pairs Faker's ``ja_JP`` provider ships); addresses, buildings, banks and places are
combinations of generic parts. No real person's data is read or reproduced.

Figures follow the shape of 総務省統計局「令和2年国勢調査」 (age pyramid, household
families, household size) and other public statistics named at each constant; they are
rounded and approximate (see docs/synth.md).
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar

import jaconv
from faker.providers.person.ja_JP import Provider as _FakerJaJP

from machi.core.numbers import individual_number_check_digit

T = TypeVar("T")

# Full-width fields (氏名, 氏名カナ, 方書) separate their parts with an ideographic space, as
# legacy 住記 exports do; the registry treats full- and half-width spaces alike
# (standard-spec §6: search ignores the kind of space).
FW_SPACE = "\u3000"

RESIDENTS_PER_TOWN_AREA = 2_000
# Life events (deaths, move-outs) are generated for this many years before ``as_of``.
HISTORY_YEARS = 3
DAYS_PER_YEAR = 365.2425

# ---------------------------------------------------------------------------------------
# Weighted choice
# ---------------------------------------------------------------------------------------


class WeightedTable(Generic[T]):
    """Weighted choice by bisect over cumulative weights: one ``random()`` per draw, which is
    several times faster than ``random.choices`` for single picks in the hot loop."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        if not pairs:
            raise ValueError("empty weighted table")
        self._items = [item for item, _ in pairs]
        self._cum = list(accumulate(float(w) for _, w in pairs))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        i = bisect_right(self._cum, rng.random() * self._total)
        return self._items[min(i, len(self._items) - 1)]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[T]:
        return list(self._items)


# ---------------------------------------------------------------------------------------
# Age pyramid: 令和2年国勢調査 人口等基本集計 (不詳補完値), thousands, 5-year groups, rounded.
# Shares: 0–14 11.9 %, 15–64 59.5 %, 65+ 28.6 %.
# ---------------------------------------------------------------------------------------

AGE_GROUPS_2020: tuple[tuple[int, int, int], ...] = (
    (0, 4, 4_541),
    (5, 9, 5_114),
    (10, 14, 5_376),
    (15, 19, 5_706),
    (20, 24, 6_320),
    (25, 29, 6_384),
    (30, 34, 6_714),
    (35, 39, 7_498),
    (40, 44, 8_476),
    (45, 49, 9_795),
    (50, 54, 8_821),
    (55, 59, 7_938),
    (60, 64, 7_442),
    (65, 69, 8_236),
    (70, 74, 9_189),
    (75, 79, 7_065),
    (80, 84, 5_407),
    (85, 89, 3_651),
    (90, 94, 1_757),
    (95, 99, 508),
    (100, 104, 80),
)
MAX_AGE = 104


def _single_year_weights() -> list[float]:
    weights: list[float] = []
    for lo, hi, count in AGE_GROUPS_2020:
        weights.extend([count / (hi - lo + 1)] * (hi - lo + 1))
    return weights


_AGE_CUM = list(accumulate(_single_year_weights()))


def sample_age(rng: random.Random, lo: int, hi: int) -> int:
    """An age in ``[lo, hi]`` drawn with the 2020 pyramid's relative weights, so that every
    band inherits the national shape (boomer bulges included)."""
    lo = max(0, lo)
    hi = min(MAX_AGE, hi)
    if hi <= lo:
        return lo
    c_lo = _AGE_CUM[lo - 1] if lo > 0 else 0.0
    c_hi = _AGE_CUM[hi]
    age = bisect_right(_AGE_CUM, c_lo + rng.random() * (c_hi - c_lo))
    return min(max(age, lo), hi)


def fiscal_year_of(d: date) -> int:
    """The 年度 (April to March) containing ``d``."""
    return d.year if d.month >= 4 else d.year - 1


# ---------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------

# 続柄 (relationship to the household head). The values follow 住民記録システム標準仕様書
# §3.7 (standard-spec.md): 世帯主; 夫, 妻, 夫（未届）, 妻（未届）, 子, 父, 母, 兄, 姉, 弟,
# 妹; chains joined by 「の」; 縁故者; 同居人. 孫 and 祖父/祖母 are not allowed there, hence
# 子の子 and the head's 父/母. The standard's numeric code values were not found (§6 item 2), so the
# short codes below are this generator's own; rows carry code and label.
RELATIONSHIPS: dict[str, str] = {
    "head": "世帯主",
    "husband": "夫",
    "wife": "妻",
    "husband_unreg": "夫（未届）",
    "wife_unreg": "妻（未届）",
    "child": "子",
    "child_wife": "子の妻",
    "child_husband": "子の夫",
    "child_child": "子の子",
    "father": "父",
    "mother": "母",
    "wife_father": "妻の父",
    "wife_mother": "妻の母",
    "elder_brother": "兄",
    "elder_sister": "姉",
    "younger_brother": "弟",
    "younger_sister": "妹",
    "kin": "縁故者",
    "cohabitant": "同居人",
}

# Household families of 国勢調査 (世帯の家族類型).
HOUSEHOLD_KINDS = (
    "single",
    "couple",
    "couple_children",
    "single_parent",
    "three_generation",
    "other_relatives",
    "non_relative",
)

# 令和2年国勢調査: 単独世帯 38.0 %, 夫婦のみ 20.1 %, 夫婦と子供 25.0 %, ひとり親と子供 9.0 %,
# 三世代世帯 ~4.2 %, その他の親族世帯 ~2.8 %, 非親族を含む世帯 0.9 % (of 一般世帯).
HOUSEHOLD_KIND_SHARES: tuple[tuple[str, float], ...] = (
    ("single", 38.0),
    ("couple", 20.1),
    ("couple_children", 25.0),
    ("single_parent", 9.0),
    ("three_generation", 4.2),
    ("other_relatives", 2.8),
    ("non_relative", 0.9),
)

SEX_MALE = 1
SEX_FEMALE = 2

EVENT_KINDS = ("birth", "move_in", "death", "move_out")
INCOME_CATEGORIES = ("salary", "pension", "business", "none")
# 全銀協 預金種目: 1 普通, 2 当座.
ACCOUNT_TYPES = {"1": "普通", "2": "当座"}

# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------

_SMALL_TO_LARGE_HW = str.maketrans("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ")


def bank_kana(full_width_kana: str) -> str:
    """Half-width katakana as 全銀 files carry account holders: no small kana, ASCII space."""
    hw = jaconv.z2h(full_width_kana.replace(FW_SPACE, " "), kana=True, ascii=False, digit=True)
    return hw.translate(_SMALL_TO_LARGE_HW)


@dataclass(frozen=True, slots=True)
class NamePart:
    kanji: str
    kana: str


# Surname parts: first and second kanji with readings; a second part may take rendaku
# (連濁) after some first parts, chosen once per combination.
_SURNAME_HEADS: tuple[tuple[str, str], ...] = (
    ("山", "ヤマ"), ("川", "カワ"), ("中", "ナカ"), ("小", "コ"), ("大", "オオ"),
    ("高", "タカ"), ("石", "イシ"), ("松", "マツ"), ("森", "モリ"), ("木", "キ"),
    ("村", "ムラ"), ("上", "ウエ"), ("下", "シモ"), ("西", "ニシ"), ("東", "ヒガシ"),
    ("北", "キタ"), ("南", "ミナミ"), ("前", "マエ"), ("岡", "オカ"), ("原", "ハラ"),
    ("藤", "フジ"), ("竹", "タケ"), ("菅", "スガ"), ("桜", "サクラ"), ("梅", "ウメ"),
    ("柳", "ヤナギ"), ("杉", "スギ"), ("吉", "ヨシ"), ("福", "フク"), ("長", "ナガ"),
    ("宮", "ミヤ"), ("平", "ヒラ"), ("今", "イマ"), ("新", "ニイ"), ("古", "フル"),
    ("金", "カネ"), ("岩", "イワ"), ("浅", "アサ"), ("深", "フカ"), ("清", "キヨ"),
    ("白", "シラ"), ("黒", "クロ"), ("青", "アオ"), ("赤", "アカ"), ("広", "ヒロ"),
    ("寺", "テラ"), ("坂", "サカ"), ("関", "セキ"), ("星", "ホシ"), ("秋", "アキ"),
    ("春", "ハル"), ("堀", "ホリ"), ("荒", "アラ"), ("片", "カタ"), ("野", "ノ"),
    ("三", "ミ"), ("千", "チ"), ("田", "タ"), ("市", "イチ"), ("久保", "クボ"),
    ("小野", "オノ"), ("早", "ハヤ"), ("水", "ミズ"), ("池", "イケ"), ("谷", "タニ"),
    ("横", "ヨコ"), ("鈴", "スズ"), ("神", "カミ"), ("丸", "マル"), ("八", "ヤ"),
)  # fmt: skip
_SURNAME_TAILS: tuple[tuple[str, str, str], ...] = (
    # kanji, plain reading, rendaku reading (same when none)
    ("田", "タ", "ダ"), ("川", "カワ", "ガワ"), ("山", "ヤマ", "ヤマ"), ("本", "モト", "モト"),
    ("野", "ノ", "ノ"), ("村", "ムラ", "ムラ"), ("井", "イ", "イ"), ("木", "キ", "ギ"),
    ("沢", "サワ", "ザワ"), ("崎", "サキ", "ザキ"), ("島", "シマ", "ジマ"), ("原", "ハラ", "バラ"),
    ("口", "グチ", "グチ"), ("部", "ベ", "ベ"), ("谷", "タニ", "ヤ"), ("岡", "オカ", "オカ"),
    ("橋", "ハシ", "バシ"), ("林", "バヤシ", "バヤシ"), ("内", "ウチ", "ウチ"), ("尾", "オ", "オ"),
    ("下", "シタ", "シタ"), ("瀬", "セ", "セ"), ("浦", "ウラ", "ウラ"), ("池", "イケ", "イケ"),
    ("森", "モリ", "モリ"), ("坂", "サカ", "ザカ"), ("塚", "ツカ", "ヅカ"), ("江", "エ", "エ"),
    ("城", "シロ", "ジロ"), ("宮", "ミヤ", "ミヤ"), ("畑", "ハタ", "バタ"), ("浜", "ハマ", "ハマ"),
    ("元", "モト", "モト"), ("倉", "クラ", "グラ"), ("永", "ナガ", "ナガ"), ("間", "マ", "マ"),
    ("垣", "ガキ", "ガキ"), ("戸", "ト", "ド"), ("場", "バ", "バ"), ("丘", "オカ", "オカ"),
    ("藤", "フジ", "ドウ"), ("沼", "ヌマ", "ヌマ"), ("津", "ツ", "ヅ"), ("根", "ネ", "ネ"),
    ("葉", "ハ", "バ"), ("川田", "カワダ", "カワダ"), ("之内", "ノウチ", "ノウチ"),
    ("崎田", "サキタ", "ザキタ"), ("平", "ヒラ", "ダイラ"), ("松", "マツ", "マツ"),
)  # fmt: skip

# Given-name parts by sex with an era weight (born before 1970, 1970–1994, 1995 on): the
# shape follows the well-known drift of popular names (子 for girls and 郎/男/夫 for boys in
# older cohorts, 斗/翔/陽/菜 in younger ones).
_ERAS = ("old", "mid", "new")
_MALE_HEADS: tuple[tuple[str, str], ...] = (
    ("大", "ダイ"), ("健", "ケン"), ("翔", "ショウ"), ("拓", "タク"), ("雄", "ユウ"),
    ("和", "カズ"), ("正", "マサ"), ("秀", "ヒデ"), ("浩", "ヒロ"), ("博", "ヒロ"),
    ("隆", "タカ"), ("勝", "カツ"), ("直", "ナオ"), ("誠", "セイ"), ("達", "タツ"),
    ("光", "コウ"), ("康", "ヤス"), ("悠", "ユウ"), ("蒼", "ソウ"), ("陽", "ハル"),
    ("颯", "ソウ"), ("俊", "トシ"), ("信", "ノブ"), ("義", "ヨシ"), ("昭", "アキ"),
    ("賢", "ケン"), ("航", "コウ"), ("優", "ユウ"), ("智", "トモ"), ("泰", "ヤス"),
)  # fmt: skip
_MALE_TAILS: tuple[tuple[str, str, tuple[float, float, float]], ...] = (
    ("太", "タ", (1, 4, 6)), ("介", "スケ", (2, 5, 3)), ("斗", "ト", (0.2, 2, 8)),
    ("也", "ヤ", (1, 5, 3)), ("樹", "キ", (1, 3, 6)), ("人", "ト", (1, 4, 5)),
    ("一", "イチ", (5, 3, 1)), ("郎", "ロウ", (7, 2, 1)), ("二", "ジ", (4, 1, 0.3)),
    ("彦", "ヒコ", (4, 2, 1)), ("男", "オ", (7, 1, 0.1)), ("夫", "オ", (7, 1, 0.1)),
    ("志", "シ", (4, 3, 1)), ("平", "ヘイ", (2, 3, 3)), ("輝", "キ", (1, 3, 4)),
    ("真", "マ", (0.5, 2, 5)), ("吾", "ゴ", (2, 3, 2)), ("史", "シ", (2, 4, 2)),
)  # fmt: skip
_FEMALE_HEADS: tuple[tuple[str, str], ...] = (
    ("美", "ミ"), ("陽", "ヒ"), ("結", "ユ"), ("優", "ユウ"), ("真", "マ"), ("由", "ユ"),
    ("千", "チ"), ("和", "カズ"), ("幸", "サチ"), ("智", "トモ"), ("裕", "ヒロ"), ("久", "ヒサ"),
    ("明", "アキ"), ("京", "キョウ"), ("順", "ジュン"), ("直", "ナオ"), ("早", "サ"),
    ("奈", "ナ"), ("彩", "アヤ"), ("愛", "アイ"), ("莉", "リ"), ("春", "ハル"), ("芽", "メ"),
    ("紗", "サ"), ("恵", "メグ"), ("友", "ユ"), ("菜", "ナ"), ("咲", "サキ"),
)  # fmt: skip
_FEMALE_TAILS: tuple[tuple[str, str, tuple[float, float, float]], ...] = (
    ("子", "コ", (12, 3, 0.5)), ("美", "ミ", (3, 5, 2)), ("香", "カ", (1, 5, 3)),
    ("奈", "ナ", (1, 4, 5)), ("恵", "エ", (3, 4, 1)), ("代", "ヨ", (6, 1, 0.2)),
    ("江", "エ", (6, 1, 0.2)), ("乃", "ノ", (0.5, 2, 5)), ("花", "カ", (0.5, 2, 6)),
    ("菜", "ナ", (0.5, 3, 7)), ("穂", "ホ", (1, 3, 4)), ("里", "リ", (1, 4, 3)),
    ("佳", "カ", (1, 4, 3)), ("希", "キ", (0.5, 3, 4)), ("枝", "エ", (6, 1, 0.2)),
    ("音", "ネ", (0.2, 1, 5)), ("衣", "イ", (0.3, 3, 4)),
)  # fmt: skip


class JapaneseName(NamedTuple):
    kanji: str
    kana: str


def _zipf_weights(n: int, *, total: float, offset: float, exponent: float) -> list[float]:
    raw = [1.0 / (r + offset) ** exponent for r in range(1, n + 1)]
    scale = total / sum(raw)
    return [w * scale for w in raw]


# Share of people carrying one of Faker's 50 commonest surnames: the real top 50 cover
# roughly a fifth of the population, which also puts 佐藤 near its real ~1.5 %.
_FAKER_SURNAME_SHARE = 0.20


@cache
def surname_table() -> WeightedTable[JapaneseName]:
    """Faker's 50 weighted surnames plus ~3,400 combinations of surname parts with a long
    Zipf tail. Built with a fixed generator, so it is the same for every town."""
    faker_pairs = [
        (JapaneseName(kanji, kana), float(weight))
        for (kanji, kana, _romaji), weight in _FakerJaJP.last_name_pairs.items()
    ]
    seen = {name.kanji for name, _ in faker_pairs}
    table_rng = random.Random("machi.synth.surnames.v1")
    combos: list[JapaneseName] = []
    for head_kanji, head_kana in _SURNAME_HEADS:
        for tail_kanji, plain, voiced in _SURNAME_TAILS:
            kanji = head_kanji + tail_kanji
            if head_kanji == tail_kanji or kanji in seen:
                continue
            seen.add(kanji)
            kana = head_kana + (voiced if table_rng.random() < 0.5 else plain)
            combos.append(JapaneseName(kanji, kana))
    table_rng.shuffle(combos)
    faker_total = sum(w for _, w in faker_pairs)
    tail_total = faker_total * (1 - _FAKER_SURNAME_SHARE) / _FAKER_SURNAME_SHARE
    tail = zip(
        combos, _zipf_weights(len(combos), total=tail_total, offset=40, exponent=1.1), strict=True
    )
    return WeightedTable([*faker_pairs, *tail])


@cache
def given_name_table(sex: int, era: str) -> WeightedTable[JapaneseName]:
    """Given names for one sex and birth era: Faker's pairs plus head+tail combinations."""
    era_i = _ERAS.index(era)
    heads: tuple[tuple[str, str], ...]
    tails: tuple[tuple[str, str, tuple[float, float, float]], ...]
    faker_names: Sequence[tuple[str, str, str]]
    if sex == SEX_MALE:
        faker_names = _FakerJaJP.first_name_male_pairs
        heads, tails = _MALE_HEADS, _MALE_TAILS
    else:
        faker_names = _FakerJaJP.first_name_female_pairs
        heads, tails = _FEMALE_HEADS, _FEMALE_TAILS
    pairs: list[tuple[JapaneseName, float]] = [
        (JapaneseName(kanji, kana), 6.0) for kanji, kana, _romaji in faker_names
    ]
    seen = {name.kanji for name, _ in pairs}
    for head_kanji, head_kana in heads:
        for tail_kanji, tail_kana, era_weights in tails:
            kanji = head_kanji + tail_kanji
            if head_kanji == tail_kanji or kanji in seen:
                continue
            seen.add(kanji)
            pairs.append((JapaneseName(kanji, head_kana + tail_kana), era_weights[era_i]))
    return WeightedTable(pairs)


def era_of(birth_year: int) -> str:
    if birth_year < 1970:
        return "old"
    return "mid" if birth_year < 1995 else "new"


# Foreign residents: nationality shares after 出入国在留管理庁「在留外国人統計」(2020年末,
# top ten, rounded, thousands) and, per nationality, the commonest 在留資格.
# Name parts are generic romanised family/given names with a katakana reading.
@dataclass(frozen=True)
class Nationality:
    code: str  # ISO 3166-1 alpha-2
    weight: float
    statuses: tuple[tuple[str, float], ...]
    families: tuple[tuple[str, str], ...]
    males: tuple[tuple[str, str], ...]
    females: tuple[tuple[str, str], ...]


NATIONALITIES: tuple[Nationality, ...] = (
    Nationality(
        "CN", 778,
        (("永住者", 30), ("技術・人文知識・国際業務", 15), ("留学", 17), ("技能実習", 10),
         ("家族滞在", 10), ("日本人の配偶者等", 5), ("定住者", 4), ("特定技能", 2),
         ("永住者の配偶者等", 2)),
        (("WANG", "ワン"), ("LI", "リ"), ("ZHANG", "チャン"), ("LIU", "リュウ"),
         ("CHEN", "チェン"), ("YANG", "ヤン"), ("ZHAO", "チャオ"), ("HUANG", "ホアン"),
         ("ZHOU", "チョウ"), ("WU", "ウー")),
        (("WEI", "ウェイ"), ("JUN", "ジュン"), ("HAO", "ハオ"), ("LEI", "レイ"), ("BO", "ボー"),
         ("YONG", "ヨン"), ("TAO", "タオ")),
        (("FANG", "ファン"), ("NA", "ナ"), ("JING", "ジン"), ("LING", "リン"), ("XIN", "シン"),
         ("YAN", "イェン"), ("HUI", "フイ")),
    ),
    Nationality(
        "VN", 448,
        (("技能実習", 45), ("留学", 15), ("技術・人文知識・国際業務", 15), ("特定技能", 8),
         ("家族滞在", 7), ("永住者", 5), ("日本人の配偶者等", 2), ("定住者", 2)),
        (("NGUYEN", "グエン"), ("TRAN", "チャン"), ("LE", "レ"), ("PHAM", "ファム"),
         ("HOANG", "ホアン"), ("PHAN", "ファン"), ("VU", "ヴ"), ("DANG", "ダン"), ("BUI", "ブイ")),
        (("VAN AN", "ヴァン アン"), ("VAN BINH", "ヴァン ビン"), ("DUC CUONG", "ドゥック クオン"),
         ("VAN DUNG", "ヴァン ズン"), ("MINH HUNG", "ミン フン"), ("VAN NAM", "ヴァン ナム"),
         ("QUANG TUAN", "クアン トゥアン"), ("VAN LONG", "ヴァン ロン")),
        (("THI LAN", "ティ ラン"), ("THI LINH", "ティ リン"), ("THI MAI", "ティ マイ"),
         ("THI THAO", "ティ タオ"), ("NGOC HUONG", "ゴック フオン"), ("THI TRANG", "ティ チャン"),
         ("THI HOA", "ティ ホア"), ("THI THU", "ティ トゥ")),
    ),
    Nationality(
        "KR", 427,
        (("特別永住者", 65), ("永住者", 17), ("日本人の配偶者等", 6),
         ("技術・人文知識・国際業務", 6), ("留学", 4), ("家族滞在", 2)),
        (("KIM", "キム"), ("LEE", "イ"), ("PARK", "パク"), ("CHOI", "チェ"), ("JUNG", "チョン"),
         ("KANG", "カン"), ("CHO", "チョ"), ("YOON", "ユン"), ("LIM", "イム")),
        (("MINJUN", "ミンジュン"), ("JIHOON", "ジフン"), ("HYUNWOO", "ヒョヌ"),
         ("YOUNGHO", "ヨンホ"), ("SUNGMIN", "ソンミン"), ("DONGHYUN", "ドンヒョン")),
        (("SEOYEON", "ソヨン"), ("YUNA", "ユナ"), ("SUJIN", "スジン"), ("EUNJI", "ウンジ"),
         ("MIKYUNG", "ミギョン"), ("HYEJIN", "ヘジン")),
    ),
    Nationality(
        "PH", 280,
        (("永住者", 47), ("定住者", 18), ("日本人の配偶者等", 16), ("技能実習", 12),
         ("特定技能", 3), ("永住者の配偶者等", 2), ("家族滞在", 2)),
        (("SANTOS", "サントス"), ("REYES", "レイエス"), ("CRUZ", "クルス"),
         ("BAUTISTA", "バウティスタ"), ("GARCIA", "ガルシア"), ("MENDOZA", "メンドーサ"),
         ("RAMOS", "ラモス"), ("AQUINO", "アキノ")),
        (("JOSE", "ホセ"), ("MARK", "マーク"), ("JOHN PAUL", "ジョン ポール"), ("PAOLO", "パオロ"),
         ("JERICHO", "ジェリコ")),
        (("MARIA", "マリア"), ("ANGELICA", "アンジェリカ"), ("JOY", "ジョイ"),
         ("KRISTINE", "クリスティン"), ("MARICEL", "マリセル")),
    ),
    Nationality(
        "BR", 209,
        (("永住者", 55), ("定住者", 33), ("日本人の配偶者等", 8), ("永住者の配偶者等", 4)),
        (("SILVA", "シルバ"), ("SANTOS", "サントス"), ("OLIVEIRA", "オリベイラ"),
         ("SOUZA", "ソウザ"), ("PEREIRA", "ペレイラ"), ("LIMA", "リマ"), ("COSTA", "コスタ"),
         ("ALVES", "アウベス")),
        (("LUCAS", "ルーカス"), ("JOAO", "ジョアン"), ("PEDRO", "ペドロ"),
         ("GABRIEL", "ガブリエル"), ("RAFAEL", "ハファエル")),
        (("ANA", "アナ"), ("MARIANA", "マリアナ"), ("JULIANA", "ジュリアナ"), ("CAMILA", "カミラ"),
         ("LETICIA", "レチシア")),
    ),
    Nationality(
        "NP", 96,
        (("家族滞在", 35), ("留学", 25), ("技術・人文知識・国際業務", 20), ("技能", 15),
         ("永住者", 5)),
        (("SHRESTHA", "シュレスタ"), ("GURUNG", "グルン"), ("TAMANG", "タマン"), ("RAI", "ライ"),
         ("THAPA", "タパ"), ("MAGAR", "マガル")),
        (("RAM", "ラム"), ("BIKASH", "ビカシュ"), ("SURESH", "スレシュ"), ("ANIL", "アニル"),
         ("RAJ", "ラジ")),
        (("SITA", "シタ"), ("ANITA", "アニタ"), ("SUNITA", "スニタ"), ("PUJA", "プジャ"),
         ("RITA", "リタ")),
    ),
    Nationality(
        "ID", 66,
        (("技能実習", 55), ("特定技能", 10), ("留学", 10), ("技術・人文知識・国際業務", 8),
         ("永住者", 8), ("家族滞在", 5), ("日本人の配偶者等", 4)),
        (("SANTOSO", "サントソ"), ("PRATAMA", "プラタマ"), ("WIJAYA", "ウィジャヤ"),
         ("SAPUTRA", "サプトラ"), ("HIDAYAT", "ヒダヤット")),
        (("BUDI", "ブディ"), ("AGUS", "アグス"), ("EKO", "エコ"), ("ADI", "アディ")),
        (("DEWI", "デウィ"), ("SITI", "シティ"), ("PUTRI", "プトリ"), ("RINA", "リナ")),
    ),
    Nationality(
        "TW", 55,
        (("永住者", 40), ("技術・人文知識・国際業務", 20), ("日本人の配偶者等", 15), ("留学", 15),
         ("家族滞在", 10)),
        (("CHEN", "チェン"), ("LIN", "リン"), ("HUANG", "ホアン"), ("CHANG", "チャン"),
         ("LEE", "リー"), ("WANG", "ワン")),
        (("CHIH MING", "チー ミン"), ("CHIA HAO", "チア ハオ"), ("WEN HSIUNG", "ウェン シュン")),
        (("YU TING", "ユー ティン"), ("SHU FEN", "シュー フェン"), ("YA HUI", "ヤー フイ")),
    ),
    Nationality(
        "US", 56,
        (("永住者", 35), ("日本人の配偶者等", 20), ("技術・人文知識・国際業務", 15), ("教育", 15),
         ("家族滞在", 10), ("留学", 5)),
        (("SMITH", "スミス"), ("JOHNSON", "ジョンソン"), ("WILLIAMS", "ウィリアムズ"),
         ("BROWN", "ブラウン"), ("JONES", "ジョーンズ"), ("MILLER", "ミラー"),
         ("DAVIS", "デイビス")),
        (("JAMES", "ジェームズ"), ("MICHAEL", "マイケル"), ("DAVID", "デイビッド"),
         ("DANIEL", "ダニエル")),
        (("EMILY", "エミリー"), ("SARAH", "サラ"), ("JESSICA", "ジェシカ"),
         ("ASHLEY", "アシュリー")),
    ),
    Nationality(
        "TH", 54,
        (("永住者", 30), ("技能実習", 25), ("日本人の配偶者等", 20), ("留学", 10), ("定住者", 10),
         ("特定技能", 5)),
        (("SRISUK", "シースック"), ("WONGSAWAT", "ウォンサワット"), ("BOONMA", "ブンマー"),
         ("CHAIYAPHUM", "チャイヤプーム")),
        (("SOMCHAI", "ソムチャイ"), ("ANAN", "アナン"), ("PRASERT", "プラサート")),
        (("SUDA", "スダー"), ("PORNPIMOL", "ポーンピモン"), ("NAREE", "ナリー")),
    ),
)  # fmt: skip

_NATIONALITY_TABLE = WeightedTable([(n, n.weight) for n in NATIONALITIES])
_STATUS_TABLES = {n.code: WeightedTable(list(n.statuses)) for n in NATIONALITIES}

# 在留資格 that do not bring a family (技能実習, 特定技能1号) or rarely do (留学).
_SINGLE_ONLY_STATUSES = frozenset({"技能実習", "特定技能", "留学"})
# Length of the period of stay granted, in days, for the 在留期間満了日; None = no expiry.
_STAY_DAYS: dict[str, int | None] = {
    "永住者": None,
    "特別永住者": None,
    "技能実習": 365,
    "特定技能": 365,
    "留学": 820,
    "技術・人文知識・国際業務": 1_826,
    "技能": 1_095,
    "教育": 1_095,
    "家族滞在": 1_095,
    "定住者": 1_095,
    "日本人の配偶者等": 1_095,
    "永住者の配偶者等": 1_095,
}
# Head age bands by 在留資格 (labour and study residents are young).
_STATUS_AGES: dict[str, tuple[int, int]] = {
    "技能実習": (19, 34),
    "特定技能": (20, 38),
    "留学": (18, 29),
    "技術・人文知識・国際業務": (23, 45),
    "技能": (25, 50),
    "教育": (25, 60),
    "家族滞在": (22, 45),
    "定住者": (22, 65),
    "日本人の配偶者等": (25, 60),
    "永住者の配偶者等": (25, 60),
    "永住者": (28, 75),
    "特別永住者": (30, 95),
}

# ---------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip

_AREA_BASES: tuple[tuple[str, str], ...] = (
    ("桜", "サクラ"), ("緑", "ミドリ"), ("旭", "アサヒ"), ("若葉", "ワカバ"),
    ("富士見", "フジミ"), ("青葉", "アオバ"), ("栄", "サカエ"), ("日の出", "ヒノデ"),
    ("松", "マツ"), ("梅", "ウメ"), ("柳", "ヤナギ"), ("泉", "イズミ"), ("清水", "シミズ"),
    ("高砂", "タカサゴ"), ("白鳥", "シラトリ"), ("幸", "サイワイ"), ("寿", "コトブキ"),
    ("花園", "ハナゾノ"), ("光", "ヒカリ"), ("宝", "タカラ"), ("美園", "ミソノ"), ("星", "ホシ"),
    ("月見", "ツキミ"), ("桃", "モモ"), ("竹", "タケ"), ("杉", "スギ"), ("柏", "カシワ"),
    ("楓", "カエデ"), ("藤", "フジ"), ("萩", "ハギ"), ("鶴", "ツル"), ("錦", "ニシキ"),
    ("宮", "ミヤ"), ("平和", "ヘイワ"), ("春日", "カスガ"), ("千歳", "チトセ"),
    ("常盤", "トキワ"), ("曙", "アケボノ"), ("弥生", "ヤヨイ"), ("大和", "ヤマト"),
    ("朝日", "アサヒ"), ("稲穂", "イナホ"), ("菖蒲", "アヤメ"), ("水木", "ミズキ"),
    ("小松", "コマツ"),
)  # fmt: skip
_AREA_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("町", "チョウ"), ("ケ丘", "ガオカ"), ("台", "ダイ"), ("野", "ノ"), ("原", "ハラ"),
    ("通", "ドオリ"), ("新町", "シンマチ"), ("平", "ダイラ"), ("浜", "ハマ"), ("坂", "ザカ"),
    ("", ""),
)  # fmt: skip
_AREA_DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("", ""), ("東", "ヒガシ"), ("西", "ニシ"), ("南", "ミナミ"), ("北", "キタ"), ("新", "シン"),
    ("上", "カミ"), ("下", "シモ"), ("中", "ナカ"),
)  # fmt: skip
_AREA_STANDALONE: tuple[tuple[str, str], ...] = (
    ("中央", "チュウオウ"), ("本町", "ホンチョウ"), ("駅前", "エキマエ"), ("元町", "モトマチ"),
    ("仲町", "ナカチョウ"),
)  # fmt: skip

_CITY_HEADS = ("桜", "緑", "若", "白", "青", "朝", "高", "北", "南", "東", "西", "花", "星", "月")
_CITY_TAILS = ("川", "山", "野", "原", "沢", "浜", "崎", "岡", "台", "見", "森", "里")

_BUILDING_PREFIXES = (
    "メゾン", "コーポ", "ハイツ", "グラン", "サン", "パーク", "ロイヤル", "エスポワール", "ヴィラ",
    "アーバン", "プレミール", "シャトー", "リバーサイド", "ステラ",
)  # fmt: skip
_BUILDING_SUFFIXES = ("", "ハイツ", "マンション", "レジデンス", "コート", "荘", "ハウス", "パレス")

# Fictional banks: 9000-range codes are not assigned to real financial institutions in this
# data set's convention; the weights mimic a few large and many small banks.
BANKS: tuple[tuple[str, float], ...] = tuple(
    (f"{9001 + i:04d}", 30.0 / (i + 1) + 1.0) for i in range(24)
)


# ---------------------------------------------------------------------------------------
# Individual number (個人番号)
# ---------------------------------------------------------------------------------------

_IN_DOMAIN = 10**11
_FEISTEL_HALF_BITS = 19  # 2**38 > 10**11: cycle-walk down to the domain
_FEISTEL_MASK = (1 << _FEISTEL_HALF_BITS) - 1


def _feistel(x: int, key: bytes) -> int:
    left, right = x >> _FEISTEL_HALF_BITS, x & _FEISTEL_MASK
    for round_no in range(4):
        digest = hashlib.blake2b(f"{round_no}:{right}".encode(), key=key, digest_size=8).digest()
        left, right = right, left ^ (int.from_bytes(digest, "big") & _FEISTEL_MASK)
    return (left << _FEISTEL_HALF_BITS) | right


def individual_number_for(seed: int, person_index: int) -> str:
    """A 12-digit 個人番号 with a valid check digit for the synthetic person ``person_index``
    (the ``synth.person.id``) of the town made from ``seed``.

    A keyed Feistel permutation of the 11-digit space (cycle-walked into 10**11) makes the
    number a bijection of the index, so numbers are unique within a seed, and look random.
    The numbers are fictitious; a value may by chance equal a real person's number, which
    is why synth tables never store them next to anything (house rule: only the vault
    stores 個人番号, encrypted)."""
    if not 0 <= person_index < _IN_DOMAIN:
        raise ValueError("person_index must be in [0, 10**11)")
    key = hashlib.sha256(f"machi.synth.individual_number:{seed}".encode()).digest()
    x = person_index
    while True:
        x = _feistel(x, key)
        if x < _IN_DOMAIN:
            break
    first11 = f"{x:011d}"
    return first11 + str(individual_number_check_digit(first11))


# ---------------------------------------------------------------------------------------
# Rows (field order = column order of the synth tables and of COPY)
# ---------------------------------------------------------------------------------------


class TownRow(NamedTuple):
    id: int
    name: str
    local_government_code: str
    prefecture: str
    seed: int
    residents: int
    as_of: date
    generated_at: datetime | None


class TownAreaRow(NamedTuple):
    id: int
    code: str
    name: str
    name_kana: str
    address_style: str  # "residence_indication" (住居表示: 番・号) or "lot_number" (地番)
    chome_count: int  # 0 when the area has no 丁目
    postal_code: str


class AddressRow(NamedTuple):
    id: int
    town_area_id: int
    chome: int | None
    lot_no: int
    sub_no: int | None
    lot: str  # display form: "12番5号" or "1234番地5"


class HouseholdRow(NamedTuple):
    id: int
    kind: str
    address_id: int
    building: str | None
    head_person_id: int
    formed_on: date
    dissolved_on: date | None


class PersonRow(NamedTuple):
    id: int
    household_id: int
    display_order: int
    relationship_code: str
    relationship: str
    name: str
    name_kana: str
    alias_name: str | None
    alias_name_kana: str | None
    sex: int
    birth_date: date
    nationality_code: str | None
    residence_status: str | None
    residence_expires_on: date | None
    registered_domicile: str | None
    family_register_head: str | None
    address_id: int
    building: str | None
    moved_in_on: date
    moved_in_reason: str  # "birth" or "move_in"
    moved_in_from: str | None
    died_on: date | None
    moved_out_on: date | None
    moved_out_to: str | None


class LifeEventRow(NamedTuple):
    id: int
    person_id: int
    kind: str
    occurred_on: date
    place: str | None  # where from (move_in) or where to (move_out)


class IncomeRow(NamedTuple):
    person_id: int
    fiscal_year: int
    category: str
    amount: int


class BankAccountRow(NamedTuple):
    id: int
    household_id: int
    person_id: int
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str


@dataclass
class AreaBatch:
    """All rows of one town area; the loader writes a batch table by table."""

    addresses: list[AddressRow] = field(default_factory=list)
    households: list[HouseholdRow] = field(default_factory=list)
    persons: list[PersonRow] = field(default_factory=list)
    life_events: list[LifeEventRow] = field(default_factory=list)
    incomes: list[IncomeRow] = field(default_factory=list)
    bank_accounts: list[BankAccountRow] = field(default_factory=list)
    residents: int = 0


# ---------------------------------------------------------------------------------------
# Household members (mutable while a household is being built)
# ---------------------------------------------------------------------------------------


class _Member:
    __slots__ = (
        "alias",
        "birth_ord",
        "died_ord",
        "domicile",
        "kana",
        "moved_in_from",
        "moved_in_ord",
        "moved_out_ord",
        "moved_out_to",
        "name",
        "nationality",
        "register_head",
        "rel",
        "sex",
        "status",
        "status_expires_ord",
    )

    def __init__(self, rel: str, sex: int, birth_ord: int) -> None:
        self.rel = rel
        self.sex = sex
        self.birth_ord = birth_ord
        self.name = ""
        self.kana = ""
        self.alias: JapaneseName | None = None
        self.nationality: str | None = None
        self.status: str | None = None
        self.status_expires_ord: int | None = None
        self.domicile: str | None = None
        self.register_head: str | None = None
        self.moved_in_ord = 0
        self.moved_in_from: str | None = None
        self.died_ord: int | None = None
        self.moved_out_ord: int | None = None
        self.moved_out_to: str | None = None


def _age_bands(bands: Sequence[tuple[int, int, float]]) -> WeightedTable[tuple[int, int]]:
    return WeightedTable([((lo, hi), w) for lo, hi, w in bands])


# Head age bands per household family, tuned so that the town's pyramid lands on the 2020
# shares (tests/synth/test_rules.py checks the result).
_SINGLE_AGES = _age_bands(
    [
        (18, 24, 11),
        (25, 34, 13),
        (35, 44, 10),
        (45, 54, 11),
        (55, 64, 10),
        (65, 74, 17),
        (75, 99, 27),
    ]
)
_COUPLE_AGES = _age_bands([(22, 34, 7), (35, 49, 6), (50, 64, 17), (65, 74, 33), (75, 96, 37)])
# Age of the eldest child still at home (many adult children live with their parents).
_ELDEST_CHILD_AGES = _age_bands(
    [(0, 5, 17), (6, 11, 18), (12, 17, 19), (18, 24, 20), (25, 34, 17), (35, 50, 10)]
)
_SINGLE_PARENT_CHILD_AGES = _age_bands([(0, 11, 15), (12, 19, 20), (20, 34, 25), (35, 62, 40)])
_THREE_GEN_CHILD_AGES = _age_bands([(0, 9, 35), (10, 19, 35), (20, 32, 30)])
_CHILDREN_COUNT = WeightedTable([(1, 46.0), (2, 41.0), (3, 11.0), (4, 2.0)])
_SINGLE_PARENT_CHILDREN = WeightedTable([(1, 65.0), (2, 28.0), (3, 7.0)])
_OTHER_RELATIVE_KINDS = WeightedTable(
    [("couple_parent", 40.0), ("siblings", 35.0), ("grandparent", 10.0), ("parent_child", 15.0)]
)
_FOREIGN_FAMILY_KINDS = WeightedTable(
    [("single", 30.0), ("couple", 20.0), ("couple_children", 42.0), ("single_parent", 8.0)]
)
# Share of households that are foreign-resident households; with mixed marriages in
# Japanese households this gives ~2.5 % foreign residents (2.3 % nationally in 2020,
# more in cities).
_FOREIGN_HOUSEHOLD_SHARE = 0.026
_MIXED_MARRIAGE_SHARE = 0.015
_UNREGISTERED_SPOUSE_SHARE = 0.03
_WIFE_TAKES_SURNAME = 0.95  # 厚生労働省 人口動態統計: 夫の氏 ~95 % of marriages

# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TownPlan:
    """What a town is made from. ``residents`` counts current (living, not moved out)
    residents; removed records (dead, moved out) come on top."""

    seed: int
    residents: int
    as_of: date
    municipality_name: str
    local_government_code: str

    @property
    def prefecture(self) -> str:
        code = (
            int(self.local_government_code[:2]) if self.local_government_code[:2].isdigit() else 0
        )
        return PREFECTURES[code - 1] if 1 <= code <= len(PREFECTURES) else ""

    @property
    def area_count(self) -> int:
        return max(1, round(self.residents / RESIDENTS_PER_TOWN_AREA))

    @property
    def income_fiscal_years(self) -> tuple[int, int]:
        fy = fiscal_year_of(self.as_of)
        return (fy - 1, fy)


def town_areas(plan: TownPlan) -> list[TownAreaRow]:
    """The address master: fictional 町字 names from parts, codes, postal codes, 丁目."""
    rng = random.Random(f"machi.synth:{plan.seed}:town_areas")
    names: list[tuple[str, str]] = list(_AREA_STANDALONE)
    combos = [
        (d_k + b_k + s_k, d_r + b_r + s_r)
        for b_k, b_r in _AREA_BASES
        for s_k, s_r in _AREA_SUFFIXES
        for d_k, d_r in _AREA_DIRECTIONS
        if not (d_k and not s_k)
    ]
    rng.shuffle(combos)
    # Plain names first (directional variants read as later subdivisions of a place).
    combos.sort(key=lambda c: 0 if c[0][:1] not in "東西南北新上下中" else 1)
    names.extend(combos)
    count = plan.area_count
    if count > len(names):
        names.extend((f"{k}第{i}", r) for i in range(2, count) for k, r in combos)
    prefix = rng.randrange(100, 990)
    suffixes = (
        sorted(rng.sample(range(10_000), count))
        if count <= 10_000
        else sorted(rng.randrange(10_000) for _ in range(count))
    )
    rows: list[TownAreaRow] = []
    for i in range(count):
        kanji, kana = names[i]
        share = _area_residents(plan, i)
        indicated = rng.random() < 0.6
        chome = max(1, min(9, round(share / 650))) if indicated else 0
        rows.append(
            TownAreaRow(
                id=i + 1,
                code=f"{i + 1:04d}",
                name=kanji,
                name_kana=kana,
                address_style="residence_indication" if indicated else "lot_number",
                chome_count=chome,
                postal_code=f"{prefix:03d}{suffixes[i]:04d}",
            )
        )
    return rows


def _area_residents(plan: TownPlan, index: int) -> int:
    """Residents of area ``index``: the total split evenly with a deterministic wobble,
    exact in sum."""
    n = plan.area_count

    def cum(k: int) -> int:
        # Cumulative share with a smooth deterministic wobble (areas differ in size).
        if k >= n:
            return plan.residents
        base = plan.residents * k / n
        wobble = 0.35 * plan.residents / n * math.sin(k * 2.399963)
        return max(0, min(plan.residents, round(base + wobble)))

    return max(0, cum(index + 1) - cum(index))


class _AreaGenerator:
    """Builds one town area. Ids continue from the counters passed in, so areas generated
    in order produce the same ids whatever the batch size of the loader."""

    def __init__(
        self,
        plan: TownPlan,
        area: TownAreaRow,
        all_areas: Sequence[TownAreaRow],
        ids: dict[str, int],
    ) -> None:
        self.plan = plan
        self.area = area
        self.all_areas = all_areas
        self.ids = ids
        self.rng = random.Random(f"machi.synth:{plan.seed}:area:{area.id}")
        self.as_of_ord = plan.as_of.toordinal()
        self.window_start_ord = self.as_of_ord - int(HISTORY_YEARS * DAYS_PER_YEAR)
        self.target = _area_residents(plan, area.id - 1)
        self.batch = AreaBatch()
        # Where the next lot number continues from (lots are numbered in walking order).
        self.lot_no = 0
        self.sub_no = 0
        self.chome = 1
        self.open_building: tuple[int, str, list[int]] | None = None
        self.surnames = surname_table()

    # -- ids --------------------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    # -- addresses --------------------------------------------------------------------------

    def _new_lot(self) -> int:
        rng = self.rng
        area = self.area
        if area.address_style == "residence_indication":
            wanted = 1 + min(
                area.chome_count - 1, self.batch.residents * area.chome_count // max(self.target, 1)
            )
            if wanted != self.chome:
                self.chome, self.lot_no, self.sub_no = wanted, 0, 99
            self.sub_no += rng.randint(1, 4)
            if self.sub_no > 18 or self.lot_no == 0:
                self.lot_no += 1
                self.sub_no = rng.randint(1, 3)
            chome: int | None = self.chome
            lot = f"{self.lot_no}番{self.sub_no}号"
            sub: int | None = self.sub_no
        else:
            self.lot_no += rng.randint(1, 12)
            chome = None
            sub = rng.randint(1, 9) if rng.random() < 0.5 else None
            lot = f"{self.lot_no}番地" + (str(sub) if sub is not None else "")
        address_id = self._next("address")
        self.batch.addresses.append(AddressRow(address_id, area.id, chome, self.lot_no, sub, lot))
        return address_id

    def _building_name(self) -> str:
        rng = self.rng
        core = rng.choice(_AREA_BASES)[0] if rng.random() < 0.5 else self.surnames.pick(rng).kanji
        name = rng.choice(_BUILDING_PREFIXES) + core + rng.choice(_BUILDING_SUFFIXES)
        if rng.random() < 0.1:
            name += rng.choice(("A棟", "B棟", "第2", "II"))
        return name

    def _apartment(self) -> tuple[int, str]:
        if self.open_building is None or not self.open_building[2]:
            rng = self.rng
            units = max(4, min(120, round(rng.lognormvariate(math.log(12), 0.7))))
            per_floor = rng.randint(2, 8)
            rooms = [(u // per_floor + 1) * 100 + u % per_floor + 1 for u in range(units)]
            rooms.reverse()  # pop() then hands them out from the first floor up
            self.open_building = (self._new_lot(), self._building_name(), rooms)
        address_id, building, rooms = self.open_building
        return address_id, f"{building}{FW_SPACE}{rooms.pop()}号室"

    def _dwelling(self, size: int) -> tuple[int, str | None]:
        # 令和2年国勢調査: ~45 % of households live in 共同住宅, far more of the singles.
        p_flat = 0.72 if size == 1 else 0.30
        if self.rng.random() < p_flat:
            return self._apartment()
        return self._new_lot(), None

    # -- places -----------------------------------------------------------------------------

    def _elsewhere(self) -> str:
        rng = self.rng
        pref = rng.choice(PREFECTURES)
        city = rng.choice(_CITY_HEADS) + rng.choice(_CITY_TAILS) + rng.choice(("市", "市", "町"))
        return pref + city

    def _domicile(self) -> str:
        rng = self.rng
        n = rng.randint(1, 3_000)
        if rng.random() < 0.45:
            area = rng.choice(self.all_areas)
            return f"{self.plan.prefecture}{self.plan.municipality_name}{area.name}{n}番地"
        base = rng.choice(_AREA_BASES)[0] + rng.choice(_AREA_SUFFIXES)[0]
        return f"{self._elsewhere()}{base}{n}番地"

    # -- people -----------------------------------------------------------------------------

    def _birth(self, age: int, ref_ord: int) -> int:
        return ref_ord - int((age + self.rng.random()) * DAYS_PER_YEAR)

    def _jp_name(self, m: _Member, surname: JapaneseName) -> None:
        year = date.fromordinal(m.birth_ord).year
        given = given_name_table(m.sex, era_of(year)).pick(self.rng)
        m.name = surname.kanji + FW_SPACE + given.kanji
        m.kana = surname.kana + FW_SPACE + given.kana

    def _jp_person(
        self, rel: str, sex: int, age: int, surname: JapaneseName, ref_ord: int
    ) -> _Member:
        m = _Member(rel, sex, self._birth(age, ref_ord))
        self._jp_name(m, surname)
        return m

    def _fictional_name(self, surname: JapaneseName, sex: int, birth_year: int) -> str:
        given = given_name_table(sex, era_of(birth_year)).pick(self.rng)
        return surname.kanji + FW_SPACE + given.kanji

    def _spouse_age(self, husband_age: int) -> int:
        return max(18, min(MAX_AGE, husband_age - round(self.rng.gauss(2.0, 3.0))))

    def _children_ages(self, eldest: int, count: int) -> list[int]:
        ages = [eldest]
        for _ in range(count - 1):
            nxt = ages[-1] - self.rng.randint(1, 5)
            if nxt < 0:
                break
            ages.append(nxt)
        return ages

    def _mother_age_for(self, eldest_child_age: int) -> int:
        at_birth = max(19, min(44, round(self.rng.gauss(30.5, 4.5))))
        return min(MAX_AGE, eldest_child_age + at_birth)

    # Household builders: list of members, head first. Ages are as of ``ref``.

    def _build_japanese(self, kind: str, ref: int) -> list[_Member]:
        rng = self.rng
        surname = self.surnames.pick(rng)
        if kind == "single":
            lo, hi = _SINGLE_AGES.pick(rng)
            age = sample_age(rng, lo, hi)
            p_male = 0.58 if age < 60 else 0.35
            sex = SEX_MALE if rng.random() < p_male else SEX_FEMALE
            head = self._jp_person("head", sex, age, surname, ref)
            self._register_single(head, surname)
            return [head]
        if kind == "couple":
            lo, hi = _COUPLE_AGES.pick(rng)
            return self._couple(sample_age(rng, lo, hi), surname, ref)
        if kind == "couple_children":
            lo, hi = _ELDEST_CHILD_AGES.pick(rng)
            eldest = sample_age(rng, lo, hi)
            mother = self._mother_age_for(eldest)
            husband = min(MAX_AGE, mother + round(rng.gauss(2.0, 3.0)))
            members = self._couple(max(husband, 20), surname, ref, wife_age=mother)
            self._children(members, surname, eldest, _CHILDREN_COUNT.pick(rng), ref)
            return members
        if kind == "single_parent":
            lo, hi = _SINGLE_PARENT_CHILD_AGES.pick(rng)
            eldest = sample_age(rng, lo, hi)
            parent_age = self._mother_age_for(eldest)
            sex = SEX_FEMALE if rng.random() < 0.85 else SEX_MALE
            parent = self._jp_person("head", sex, parent_age, surname, ref)
            parent.domicile = self._domicile()
            parent.register_head = parent.name
            members = [parent]
            self._children(members, surname, eldest, _SINGLE_PARENT_CHILDREN.pick(rng), ref)
            if parent_age >= 70 and eldest >= 35 and rng.random() < 0.5:
                # The adult child runs the household: the parent becomes 父/母.
                child = members[1]
                members[0], members[1] = child, parent
                child.rel = "head"
                parent.rel = "father" if parent.sex == SEX_MALE else "mother"
                for other in members[2:]:
                    other.rel = "younger_brother" if other.sex == SEX_MALE else "younger_sister"
            return members
        if kind == "three_generation":
            return self._three_generation(surname, ref)
        if kind == "other_relatives":
            return self._other_relatives(surname, ref)
        return self._non_relative(surname, ref)

    def _register_single(self, head: _Member, surname: JapaneseName) -> None:
        head.domicile = self._domicile()
        birth_year = date.fromordinal(head.birth_ord).year
        if self.rng.random() < 0.25:  # 分籍 or divorced: own register
            head.register_head = head.name
        else:  # still in the parents' register
            head.register_head = self._fictional_name(surname, SEX_MALE, birth_year - 30)

    def _couple(
        self, husband_age: int, surname: JapaneseName, ref: int, *, wife_age: int | None = None
    ) -> list[_Member]:
        rng = self.rng
        if wife_age is None:
            wife_age = self._spouse_age(husband_age)
        husband = self._jp_person("head", SEX_MALE, husband_age, surname, ref)
        unregistered = rng.random() < _UNREGISTERED_SPOUSE_SHARE
        wife_surname = self.surnames.pick(rng) if unregistered else surname
        wife = self._jp_person("wife", SEX_FEMALE, wife_age, wife_surname, ref)
        domicile = self._domicile()
        husband.domicile = domicile
        if unregistered:
            wife.rel = "wife_unreg"
            husband.register_head = husband.name
            self._register_single(wife, wife_surname)
        else:
            wife.domicile = domicile
            holder = husband if rng.random() < _WIFE_TAKES_SURNAME else wife
            husband.register_head = wife.register_head = holder.name
        members = [husband, wife]
        if rng.random() < 0.07:  # the wife is the 世帯主
            members.reverse()
            wife.rel, husband.rel = "head", "husband_unreg" if unregistered else "husband"
        if not unregistered and rng.random() < _MIXED_MARRIAGE_SHARE:
            self._make_foreign_spouse(members[1], ref)
        return members

    def _make_foreign_spouse(self, m: _Member, ref: int) -> None:
        nat = _NATIONALITY_TABLE.pick(self.rng)
        self._foreign_name(m, nat)
        m.status = "日本人の配偶者等"
        m.status_expires_ord = self._expiry(m.status, ref)
        m.domicile = None
        # Foreign nationals have no 戸籍: the Japanese spouse's register notes the marriage.
        m.register_head = None

    def _children(
        self, members: list[_Member], surname: JapaneseName, eldest: int, count: int, ref: int
    ) -> None:
        head = members[0]
        parent = next((m for m in members if m.nationality is None), head)
        for age in self._children_ages(eldest, count):
            sex = SEX_MALE if self.rng.random() < 0.512 else SEX_FEMALE
            child = self._jp_person("child", sex, age, surname, ref)
            child.domicile = parent.domicile
            child.register_head = parent.register_head
            members.append(child)

    def _three_generation(self, surname: JapaneseName, ref: int) -> list[_Member]:
        rng = self.rng
        lo, hi = _THREE_GEN_CHILD_AGES.pick(rng)
        eldest = sample_age(rng, lo, hi)
        mother = self._mother_age_for(eldest)
        husband = min(MAX_AGE, max(22, mother + round(rng.gauss(2.0, 3.0))))
        middle = self._couple(husband, surname, ref, wife_age=mother)
        h = next(m for m in middle if m.sex == SEX_MALE)
        w = next(m for m in middle if m.sex == SEX_FEMALE)
        h.rel, w.rel = "head", "wife" if w.rel != "wife_unreg" else w.rel
        middle = [h, w]
        self._children(middle, surname, eldest, _CHILDREN_COUNT.pick(rng), ref)
        wife_side = rng.random() < 0.2
        side_age = mother if wife_side else husband
        gp_surname = self.surnames.pick(rng) if wife_side else surname
        gp_age = min(MAX_AGE, side_age + max(20, round(rng.gauss(29.0, 4.0))))
        grandparents: list[_Member] = []
        if rng.random() < 0.45 and gp_age + 2 <= MAX_AGE:
            gf = self._jp_person("father", SEX_MALE, gp_age + 2, gp_surname, ref)
            grandparents.append(gf)
        gm = self._jp_person("mother", SEX_FEMALE, gp_age, gp_surname, ref)
        grandparents.append(gm)
        gp_domicile = h.domicile if (not wife_side and rng.random() < 0.7) else self._domicile()
        gp_head = (
            grandparents[0].name
            if len(grandparents) == 2
            else self._fictional_name(gp_surname, SEX_MALE, date.fromordinal(gm.birth_ord).year)
        )
        for gp in grandparents:
            gp.domicile, gp.register_head = gp_domicile, gp_head
            if wife_side:
                gp.rel = "wife_father" if gp.sex == SEX_MALE else "wife_mother"
        if not wife_side and len(grandparents) == 2 and gp_age < 85 and rng.random() < 0.3:
            # Old style: the grandfather is still the 世帯主.
            gf, gm = grandparents
            gf.rel, gm.rel = "head", "wife"
            h.rel = "child"
            w.rel = "child_wife" if w.rel == "wife" else "kin"
            for m in middle[2:]:
                m.rel = "child_child"
            return [gf, gm, *middle]
        return [*middle, *grandparents]

    def _other_relatives(self, surname: JapaneseName, ref: int) -> list[_Member]:
        rng = self.rng
        sub = _OTHER_RELATIVE_KINDS.pick(rng)
        if sub == "couple_parent":
            lo, hi = (35, 70)
            members = self._couple(sample_age(rng, lo, hi), surname, ref)
            head = members[0]
            age = min(MAX_AGE, round((ref - head.birth_ord) / DAYS_PER_YEAR) + rng.randint(24, 36))
            sex = SEX_FEMALE if rng.random() < 0.7 else SEX_MALE
            parent = self._jp_person(
                "mother" if sex == SEX_FEMALE else "father", sex, age, surname, ref
            )
            parent.domicile = head.domicile
            parent_year = date.fromordinal(parent.birth_ord).year
            parent.register_head = self._fictional_name(surname, SEX_MALE, parent_year - 2)
            members.append(parent)
            return members
        if sub == "siblings":
            age = sample_age(rng, 40, 85)
            head = self._jp_person(
                "head", SEX_MALE if rng.random() < 0.5 else SEX_FEMALE, age, surname, ref
            )
            self._register_single(head, surname)
            members = [head]
            for _ in range(rng.choice((1, 1, 1, 2))):
                sib_age = max(18, age + rng.randint(-8, 8))
                sex = SEX_MALE if rng.random() < 0.5 else SEX_FEMALE
                older = sib_age > age
                rel = {
                    (True, SEX_MALE): "elder_brother",
                    (True, SEX_FEMALE): "elder_sister",
                    (False, SEX_MALE): "younger_brother",
                    (False, SEX_FEMALE): "younger_sister",
                }[(older, sex)]
                sib = self._jp_person(rel, sex, sib_age, surname, ref)
                sib.domicile, sib.register_head = head.domicile, head.register_head
                members.append(sib)
            return members
        if sub == "grandparent":
            age = sample_age(rng, 60, 90)
            head = self._jp_person(
                "head", SEX_FEMALE if rng.random() < 0.7 else SEX_MALE, age, surname, ref
            )
            self._register_single(head, surname)
            grandchild_age = max(0, age - rng.randint(50, 62))
            gc = self._jp_person(
                "child_child",
                SEX_MALE if rng.random() < 0.5 else SEX_FEMALE,
                grandchild_age,
                surname,
                ref,
            )
            gc.domicile = head.domicile
            gc.register_head = self._fictional_name(surname, SEX_MALE, 1990)
            return [head, gc]
        # parent_child: a single parent with a child and the head's own mother
        eldest = sample_age(rng, 3, 25)
        parent_age = self._mother_age_for(eldest)
        head = self._jp_person("head", SEX_FEMALE, parent_age, surname, ref)
        head.domicile, head.register_head = self._domicile(), head.name
        members = [head]
        self._children(members, surname, eldest, 1, ref)
        gm_age = min(MAX_AGE, parent_age + rng.randint(24, 34))
        gm = self._jp_person("mother", SEX_FEMALE, gm_age, surname, ref)
        gm.domicile = head.domicile
        gm.register_head = self._fictional_name(surname, SEX_MALE, 1940)
        members.append(gm)
        return members

    def _non_relative(self, surname: JapaneseName, ref: int) -> list[_Member]:
        rng = self.rng
        age = sample_age(rng, 20, 70)
        head = self._jp_person(
            "head", SEX_MALE if rng.random() < 0.5 else SEX_FEMALE, age, surname, ref
        )
        self._register_single(head, surname)
        members = [head]
        for _ in range(rng.choice((1, 1, 2))):
            other_surname = self.surnames.pick(rng)
            other_age = max(18, min(MAX_AGE, age + rng.randint(-10, 10)))
            other = self._jp_person(
                "cohabitant" if rng.random() < 0.9 else "kin",
                SEX_MALE if rng.random() < 0.5 else SEX_FEMALE,
                other_age,
                other_surname,
                ref,
            )
            self._register_single(other, other_surname)
            members.append(other)
        return members

    # -- foreign residents -------------------------------------------------------------------

    def _foreign_name(self, m: _Member, nat: Nationality) -> None:
        rng = self.rng
        family, family_kana = rng.choice(nat.families)
        givens = nat.males if m.sex == SEX_MALE else nat.females
        given, given_kana = rng.choice(givens)
        self._set_foreign(m, nat, family, family_kana, given, given_kana)

    def _set_foreign(
        self,
        m: _Member,
        nat: Nationality,
        family: str,
        family_kana: str,
        given: str,
        given_kana: str,
    ) -> None:
        m.nationality = nat.code
        m.name = f"{family} {given}"
        m.kana = (family_kana + FW_SPACE + given_kana).replace(" ", FW_SPACE)

    def _expiry(self, status: str, ref: int) -> int | None:
        days = _STAY_DAYS.get(status)
        if days is None:
            return None
        return ref + self.rng.randint(15, days)

    def _alias(self, m: _Member, status: str) -> None:
        # 通称: common among 特別永住者, occasional among other long-term residents.
        p = 0.7 if status == "特別永住者" else (0.15 if status in ("永住者", "定住者") else 0.0)
        if p and self.rng.random() < p:
            surname = self.surnames.pick(self.rng)
            given = given_name_table(m.sex, era_of(date.fromordinal(m.birth_ord).year)).pick(
                self.rng
            )
            m.alias = JapaneseName(
                surname.kanji + FW_SPACE + given.kanji, surname.kana + FW_SPACE + given.kana
            )

    def _build_foreign(self, ref: int) -> list[_Member]:
        rng = self.rng
        nat = _NATIONALITY_TABLE.pick(rng)
        status = _STATUS_TABLES[nat.code].pick(rng)
        if status in ("家族滞在", "日本人の配偶者等", "永住者の配偶者等"):
            status = "永住者" if rng.random() < 0.5 else "技術・人文知識・国際業務"
        kind = "single" if status in _SINGLE_ONLY_STATUSES else _FOREIGN_FAMILY_KINDS.pick(rng)
        lo, hi = _STATUS_AGES[status]
        family, family_kana = rng.choice(nat.families)

        def person(rel: str, sex: int, age: int, member_status: str) -> _Member:
            m = _Member(rel, sex, self._birth(age, ref))
            given, given_kana = rng.choice(nat.males if sex == SEX_MALE else nat.females)
            self._set_foreign(m, nat, family, family_kana, given, given_kana)
            m.status = member_status
            m.status_expires_ord = self._expiry(member_status, ref)
            self._alias(m, member_status)
            return m

        family_status = {
            "永住者": "永住者",
            "特別永住者": "特別永住者",
            "定住者": "定住者",
        }.get(status, "家族滞在")
        head_age = sample_age(rng, lo, hi)
        if kind == "single":
            sex = SEX_MALE if rng.random() < 0.55 else SEX_FEMALE
            return [person("head", sex, head_age, status)]
        if kind == "single_parent":
            head = person("head", SEX_FEMALE, max(head_age, 22), status)
            members = [head]
        else:
            head = person("head", SEX_MALE, max(head_age, 22), status)
            wife = person("wife", SEX_FEMALE, self._spouse_age(max(head_age, 22)), family_status)
            members = [head, wife]
        if kind in ("couple_children", "single_parent"):
            head_years = max(head_age, 22)
            eldest = max(0, min(head_years - 20, round(rng.uniform(0, head_years - 22))))
            for age in self._children_ages(eldest, _CHILDREN_COUNT.pick(rng)):
                sex = SEX_MALE if rng.random() < 0.512 else SEX_FEMALE
                members.append(person("child", sex, age, family_status))
        return members

    # -- households ----------------------------------------------------------------------------

    def _arrival(self, members: Sequence[_Member], ref: int, *, mean_scale: float = 1.0) -> int:
        """When the household came to the town: residence spells get longer with age; no
        adult arrived younger than 16, so children born later are births in the town."""
        adults = [m for m in members if ref - m.birth_ord >= 18 * DAYS_PER_YEAR]
        youngest_adult = min(
            (ref - m.birth_ord for m in adults), default=ref - members[0].birth_ord
        )
        head_years = (ref - members[0].birth_ord) / DAYS_PER_YEAR
        mean = max(2.0, min(30.0, 0.45 * (head_years - 18))) * mean_scale
        days = int(self.rng.expovariate(1.0 / mean) * DAYS_PER_YEAR)
        cap = int(youngest_adult - 16 * DAYS_PER_YEAR)
        return ref - max(1, min(days, cap))

    def _settle(self, members: Sequence[_Member], arrival: int, *, foreign_abroad: float) -> None:
        rng = self.rng
        head = members[0]
        # 特別永住者 were born in Japan: they come from another municipality, not from abroad.
        origin_abroad = (
            head.nationality is not None
            and head.status != "特別永住者"
            and rng.random() < foreign_abroad
        )
        origin = "国外" if origin_abroad else self._elsewhere()
        for m in members:
            if m.birth_ord >= arrival:
                m.moved_in_ord = m.birth_ord
                m.moved_in_from = None
            else:
                m.moved_in_ord = arrival
                m.moved_in_from = origin

    def _emit(
        self,
        kind: str,
        members: list[_Member],
        address_id: int,
        building: str | None,
        dissolved: int | None,
    ) -> None:
        household_id = self._next("household")
        first_id = self.ids["person"] + 1
        head_id = first_id + next(i for i, m in enumerate(members) if m.rel == "head")
        formed = min(m.moved_in_ord for m in members)
        batch = self.batch
        batch.households.append(
            HouseholdRow(
                household_id,
                kind,
                address_id,
                building,
                head_id,
                date.fromordinal(formed),
                date.fromordinal(dissolved) if dissolved is not None else None,
            )
        )
        fy_jan1 = [(fy, date(fy, 1, 1).toordinal()) for fy in self.plan.income_fiscal_years]
        for order, m in enumerate(members, start=1):
            person_id = self._next("person")
            removed = m.died_ord if m.died_ord is not None else m.moved_out_ord
            if removed is None:
                batch.residents += 1
            batch.persons.append(
                PersonRow(
                    person_id,
                    household_id,
                    order,
                    m.rel,
                    RELATIONSHIPS[m.rel],
                    m.name,
                    m.kana,
                    m.alias.kanji if m.alias else None,
                    m.alias.kana if m.alias else None,
                    m.sex,
                    date.fromordinal(m.birth_ord),
                    m.nationality,
                    m.status,
                    date.fromordinal(m.status_expires_ord) if m.status_expires_ord else None,
                    m.domicile,
                    m.register_head,
                    address_id,
                    building,
                    date.fromordinal(m.moved_in_ord),
                    "birth" if m.moved_in_ord == m.birth_ord else "move_in",
                    m.moved_in_from,
                    date.fromordinal(m.died_ord) if m.died_ord is not None else None,
                    date.fromordinal(m.moved_out_ord) if m.moved_out_ord is not None else None,
                    m.moved_out_to,
                )
            )
            events = batch.life_events
            if m.moved_in_ord == m.birth_ord:
                events.append(
                    LifeEventRow(
                        self._next("event"), person_id, "birth", date.fromordinal(m.birth_ord), None
                    )
                )
            else:
                events.append(
                    LifeEventRow(
                        self._next("event"),
                        person_id,
                        "move_in",
                        date.fromordinal(m.moved_in_ord),
                        m.moved_in_from,
                    )
                )
            if m.died_ord is not None:
                events.append(
                    LifeEventRow(
                        self._next("event"), person_id, "death", date.fromordinal(m.died_ord), None
                    )
                )
            elif m.moved_out_ord is not None:
                events.append(
                    LifeEventRow(
                        self._next("event"),
                        person_id,
                        "move_out",
                        date.fromordinal(m.moved_out_ord),
                        m.moved_out_to,
                    )
                )
            self._incomes(person_id, m, fy_jan1, removed)
        if dissolved is None and self.rng.random() < 0.70:
            self._bank_account(household_id, head_id, members[head_id - first_id])

    # -- incomes and bank accounts --------------------------------------------------------------

    def _incomes(
        self, person_id: int, m: _Member, fy_jan1: list[tuple[int, int]], removed: int | None
    ) -> None:
        """One row per fiscal year for everyone 16 or over who was a resident on 1 January
        (賦課期日 of 住民税), with the previous calendar year's income."""
        rng = self.rng
        amount: int | None = None
        category = "none"
        for fy, jan1 in fy_jan1:
            if m.moved_in_ord > jan1 or (removed is not None and removed <= jan1):
                continue
            age = int((jan1 - m.birth_ord) / DAYS_PER_YEAR)
            if age < 16:
                continue
            if amount is None:
                category, amount = self._income_for(age, m)
            else:
                # The next year moves a little around the first (raises, hours worked).
                amount = int(round(amount * rng.lognormvariate(0.01, 0.05), -3))
            self.batch.incomes.append(IncomeRow(person_id, fy, category, amount))

    def _income_for(self, age: int, m: _Member) -> tuple[str, int]:
        """Gross income by age and sex. Salaries: lognormal around 国税庁「民間給与実態統計
        調査」(2020: mean 433万円; men 532万円, women 293万円); pensions around 厚生労働省
        「厚生年金保険・国民年金事業の概況」 (厚生年金 ~14.6万円/月, 国民年金 ~5.6万円/月)."""
        rng = self.rng
        u = rng.random()
        male = m.sex == SEX_MALE

        def lognormal(median: float, sigma: float) -> int:
            return int(round(rng.lognormvariate(math.log(median), sigma), -3))

        if m.status in ("技能実習", "特定技能"):
            return "salary", lognormal(2_300_000, 0.2)
        if m.status == "留学":
            return ("salary", lognormal(900_000, 0.4)) if u < 0.6 else ("none", 0)
        if age < 18:
            return ("salary", lognormal(300_000, 0.6)) if u < 0.1 else ("none", 0)
        if age < 23:
            if u < 0.45:
                return "none", 0
            if u < 0.85:
                return "salary", lognormal(800_000, 0.5)
            return "salary", lognormal(2_600_000, 0.3)
        if age < 65:
            peak = 1.0 - ((age - 52) / 30) ** 2
            if male:
                if u < 0.80:
                    return "salary", lognormal(3_200_000 + 2_600_000 * max(peak, 0.2), 0.45)
                if u < 0.89:
                    return "business", lognormal(3_000_000, 0.9)
                return "none", 0
            if u < 0.68:
                return "salary", lognormal(2_300_000 + 600_000 * max(peak, 0.0), 0.65)
            if u < 0.73:
                return "business", lognormal(1_800_000, 0.9)
            return "none", 0
        pension = lognormal(1_900_000 if male else 1_000_000, 0.35)
        if age < 70:
            if u < 0.45:
                return "salary", lognormal(2_600_000 if male else 1_500_000, 0.5)
            if u < 0.55:
                return "business", lognormal(2_000_000, 0.9)
            return "pension", pension
        if u < 0.05:
            return "salary", lognormal(1_500_000, 0.5)
        if u < 0.10:
            return "business", lognormal(1_500_000, 0.9)
        return "pension", pension

    def _bank_account(self, household_id: int, head_id: int, head: _Member) -> None:
        rng = self.rng
        bank = BANK_TABLE.pick(rng)
        index = self._next("account")
        # An affine permutation of the running index: unique 7-digit numbers without a set.
        number = (index * 7_919 + self.plan.seed * 104_729 + 1_234_567) % 10_000_000
        self.batch.bank_accounts.append(
            BankAccountRow(
                index,
                household_id,
                head_id,
                bank,
                f"{100 + 3 * rng.randint(1, 40):03d}",
                "1" if rng.random() < 0.97 else "2",
                f"{number:07d}",
                bank_kana(head.kana),
            )
        )

    # -- removed records ------------------------------------------------------------------------

    def _window_day(self, not_before: int) -> int:
        lo = max(self.window_start_ord, not_before + 1)
        return (
            self.rng.randint(lo, self.as_of_ord - 1) if lo < self.as_of_ord else self.as_of_ord - 1
        )

    def _add_removed_members(self, kind: str, members: list[_Member], arrival: int) -> None:
        """Deaths and move-outs of former members of a current household."""
        rng = self.rng
        head = members[0]
        if head.nationality is not None:
            return
        head_age = (self.as_of_ord - head.birth_ord) / DAYS_PER_YEAR
        surname = JapaneseName(head.name.split(FW_SPACE)[0], head.kana.split(FW_SPACE)[0])
        if kind == "single" and head_age >= 65 and rng.random() < 0.22:
            # Widowed: the spouse died within the window (the 世帯主 after a 世帯主変更 is
            # the survivor, so the removed spouse is recorded as 夫/妻 of the head).
            sex = SEX_MALE if head.sex == SEX_FEMALE else SEX_FEMALE
            age = max(60, min(MAX_AGE, round(head_age) + (2 if sex == SEX_MALE else -2)))
            died = self._window_day(arrival)
            dead = self._jp_person(
                "husband" if sex == SEX_MALE else "wife", sex, age, surname, died
            )
            dead.died_ord = died
            dead.domicile = head.domicile
            if sex == SEX_MALE:
                head.register_head = dead.register_head = dead.name
            else:
                dead.register_head = head.register_head = head.name
            self._join(dead, members, arrival)
        elif kind == "single" and 45 <= head_age < 70 and rng.random() < 0.05:
            sex = SEX_FEMALE if rng.random() < 0.6 else SEX_MALE
            age = min(MAX_AGE, round(head_age) + rng.randint(25, 34))
            died = self._window_day(arrival)
            dead = self._jp_person(
                "mother" if sex == SEX_FEMALE else "father", sex, age, surname, died
            )
            dead.died_ord = died
            dead.domicile, dead.register_head = head.domicile, head.register_head
            self._join(dead, members, arrival)
        elif kind == "three_generation" and rng.random() < 0.12:
            gps = [m for m in members if m.rel in ("father", "mother")]
            if len(gps) == 1:
                gm = gps[0]
                died = self._window_day(arrival)
                age = min(MAX_AGE, round((died - gm.birth_ord) / DAYS_PER_YEAR) + 2)
                dead = self._jp_person("father", SEX_MALE, age, surname, died)
                dead.died_ord = died
                dead.domicile, dead.register_head = gm.domicile, gm.register_head
                self._join(dead, members, arrival)
        elif kind in ("couple", "couple_children") and 48 <= head_age < 72:
            p = 0.20 if kind == "couple" else 0.08
            if rng.random() < p and head.sex == SEX_MALE:
                left = self._window_day(arrival)
                age = max(19, round(head_age) - rng.randint(24, 34) - 1)
                child = self._jp_person(
                    "child", SEX_MALE if rng.random() < 0.5 else SEX_FEMALE, age, surname, left
                )
                child.domicile, child.register_head = head.domicile, head.register_head
                child.moved_out_ord = left
                child.moved_out_to = self._elsewhere()
                self._join(child, members, arrival)

    def _join(self, m: _Member, members: list[_Member], arrival: int) -> None:
        m.moved_in_ord = m.birth_ord if m.birth_ord >= arrival else arrival
        m.moved_in_from = None if m.birth_ord >= arrival else members[0].moved_in_from
        members.append(m)

    def _previous_occupants(self, arrival: int, address_id: int, building: str | None) -> None:
        """The household that lived in the dwelling before a recent arrival: it moved out
        (or its last member died) shortly before."""
        rng = self.rng
        left = arrival - rng.randint(3, 120)
        if left <= self.window_start_ord - 365:
            return
        foreign = rng.random() < _FOREIGN_HOUSEHOLD_SHARE * 1.5
        kind = "single" if building is not None and rng.random() < 0.6 else _KIND_TABLE.pick(rng)
        members = self._build_foreign(left) if foreign else self._build_japanese(kind, left)
        if foreign:
            kind = _foreign_kind(members)
        came = self._arrival(members, left, mean_scale=0.5)
        self._settle(members, came, foreign_abroad=0.6)
        head_age = (left - members[0].birth_ord) / DAYS_PER_YEAR
        if len(members) == 1 and head_age >= 75 and rng.random() < 0.4:
            members[0].died_ord = left
        else:
            abroad = members[0].nationality is not None and rng.random() < 0.6
            destination = "国外" if abroad else self._elsewhere()
            for m in members:
                m.moved_out_ord = left
                m.moved_out_to = destination
        self._emit(kind, members, address_id, building, left)

    def _vacated_by_death(self) -> None:
        """An elderly person living alone who died; the house is empty now."""
        rng = self.rng
        died = self._window_day(self.window_start_ord)
        surname = self.surnames.pick(rng)
        age = sample_age(rng, 75, MAX_AGE)
        sex = SEX_FEMALE if rng.random() < 0.65 else SEX_MALE
        m = self._jp_person("head", sex, age, surname, died)
        self._register_single(m, surname)
        self._settle([m], self._arrival([m], died), foreign_abroad=0.0)
        m.died_ord = died
        self._emit("single", [m], self._new_lot(), None, died)

    # -- the area ---------------------------------------------------------------------------------

    def generate(self) -> AreaBatch:
        rng = self.rng
        while self.batch.residents < self.target:
            remaining = self.target - self.batch.residents
            foreign = rng.random() < _FOREIGN_HOUSEHOLD_SHARE
            kind = _KIND_TABLE.pick(rng)
            if foreign:
                members = self._build_foreign(self.as_of_ord)
                kind = _foreign_kind(members)
            else:
                members = self._build_japanese(kind, self.as_of_ord)
            if len(members) > remaining:
                # Fill the area exactly: the last households are people living alone.
                kind = "single"
                members = self._build_japanese("single", self.as_of_ord)
            address_id, building = self._dwelling(len(members))
            arrival = self._arrival(members, self.as_of_ord)
            if arrival >= self.window_start_ord and rng.random() < (
                0.55 if building is not None else 0.25
            ):
                self._previous_occupants(arrival, address_id, building)
            self._settle(members, arrival, foreign_abroad=0.7)
            self._add_removed_members(kind, members, arrival)
            self._emit(kind, members, address_id, building, None)
            if kind == "single" and rng.random() < 0.06:
                self._vacated_by_death()
        return self.batch


def _foreign_kind(members: Sequence[_Member]) -> str:
    rels = {m.rel for m in members}
    if len(members) == 1:
        return "single"
    if "child" in rels:
        return "couple_children" if "wife" in rels else "single_parent"
    return "couple"


_KIND_TABLE = WeightedTable(list(HOUSEHOLD_KIND_SHARES))
BANK_TABLE = WeightedTable(list(BANKS))


def generate_town(plan: TownPlan) -> Iterator[tuple[TownAreaRow, AreaBatch]]:
    """The town, area by area, in id order; the same plan always yields the same rows."""
    if plan.residents < 1:
        raise ValueError("residents must be at least 1")
    areas = town_areas(plan)
    ids = {"address": 0, "household": 0, "person": 0, "event": 0, "account": 0}
    for area in areas:
        yield area, _AreaGenerator(plan, area, areas, ids).generate()
