"""Generators of realistic synthetic data for demos and scale tests (``seed_demo``, ``gen_scale``).

Everything here is deterministic for a given seed and pure Python (no database), so the two
commands and the tests share one definition of what a plausible client looks like:

* Chinese names from :mod:`branchcare.clients.data.names` (surnames weighted by frequency);
* 11-digit mobile numbers on real carrier prefixes;
* 18-character resident ID numbers (GB 11643) with a real region code, the birthday and the
  gender digit consistent with the client's fields, and a valid check digit;
* account opening dates over 2005–today (more in the bull-market years), status, risk level and
  risk-assessment date (about 15 % older than two years);
* total assets drawn from a log-normal distribution calibrated so that about 5 % are ≥ 500 万
  (大户 at the default thresholds) and about 25 % are ≥ 50 万 (中户 and above);
* daily closes as a random walk from a realistic base price, and holdings sized to the
  client's assets, in lots of 100, with cost prices near the recent closes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import NormalDist
from typing import NamedTuple

from .data.names import GIVEN_CHARS_FEMALE, GIVEN_CHARS_MALE, SURNAMES
from .pinyin import name_pinyin

DEMO_COMPANY_NAME = "华夏示例证券股份有限公司"

# --- Mobile numbers ------------------------------------------------------------------------------
# Three-digit prefixes in use by China Mobile, China Unicom and China Telecom (and 170/171 resellers).
MOBILE_PREFIXES: tuple[str, ...] = (
    # China Mobile
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "172",
    "178", "182", "183", "184", "187", "188", "195", "197", "198",
    # China Unicom
    "130", "131", "132", "145", "155", "156", "166", "175", "176", "185", "186", "196",
    # China Telecom
    "133", "149", "153", "173", "177", "180", "181", "189", "190", "191", "193", "199",
)  # fmt: skip

# --- Resident ID numbers -------------------------------------------------------------------------
# County-level administrative division codes (GB/T 2260) used as the first six ID digits.
REGION_CODES: dict[str, str] = {
    # 上海
    "310101": "上海市黄浦区", "310104": "上海市徐汇区", "310105": "上海市长宁区", "310106": "上海市静安区",
    "310107": "上海市普陀区", "310109": "上海市虹口区", "310110": "上海市杨浦区", "310112": "上海市闵行区",
    "310113": "上海市宝山区", "310115": "上海市浦东新区",
    # 浙江
    "330102": "杭州市上城区", "330105": "杭州市拱墅区", "330106": "杭州市西湖区", "330108": "杭州市滨江区",
    "330109": "杭州市萧山区", "330110": "杭州市余杭区", "330203": "宁波市海曙区", "330302": "温州市鹿城区",
    "330602": "绍兴市越城区",
    # 江苏
    "320102": "南京市玄武区", "320106": "南京市鼓楼区", "320505": "苏州市虎丘区", "320583": "昆山市",
    "320282": "宜兴市",
    # 其他省市
    "110101": "北京市东城区", "110105": "北京市朝阳区", "110108": "北京市海淀区", "340104": "合肥市蜀山区",
    "360102": "南昌市东湖区", "410105": "郑州市金水区", "370102": "济南市历下区", "420106": "武汉市武昌区",
    "510104": "成都市锦江区", "440106": "广州市天河区", "440305": "深圳市南山区", "350102": "福州市鼓楼区",
    "430102": "长沙市芙蓉区", "610113": "西安市雁塔区",
}  # fmt: skip

# Where a branch's clients were mostly born: the branch's own province first.
HOME_REGIONS: dict[str, tuple[str, ...]] = {
    "31": tuple(c for c in REGION_CODES if c.startswith("31")),
    "33": tuple(c for c in REGION_CODES if c.startswith("33")),
}
ALL_REGIONS: tuple[str, ...] = tuple(REGION_CODES)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character (0–9 or X) of the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("需要 17 位数字")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character resident ID number with a real date and a correct check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    if id_number_birthday(value) is None:
        return False
    return value[17].upper() == id_check_digit(value[:17])


def id_number_birthday(value: str) -> dt.date | None:
    """The birthday encoded in digits 7–14 of an 18-character ID number, or None if not a date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except (ValueError, IndexError):
        return None


def id_number_gender(value: str) -> str:
    """``"M"`` or ``"F"`` from the 17th digit (odd is male) of an 18-character ID number."""
    return "M" if int(value[16]) % 2 else "F"


# --- Securities prices ------------------------------------------------------------------------------
# Approximate recent price levels (元), so that demo holdings and P/L look like the real market.
BASE_PRICES: dict[str, float] = {
    "000300": 3900,
    # 白酒 / 食品饮料
    "600519": 1450, "600809": 190, "000858": 125, "000568": 125, "000596": 160, "002304": 68,
    "600887": 28, "600600": 68, "603288": 40, "000895": 26, "002507": 13, "300999": 30,
    # 保险 / 银行 / 证券
    "601318": 55, "601628": 38, "601601": 33, "601319": 7.5, "601336": 55,
    "600036": 42, "601398": 7.2, "601288": 6.0, "601939": 9.0, "601988": 5.6, "601328": 7.5,
    "601658": 5.6, "600000": 12.5, "600016": 4.5, "601166": 22, "601998": 8.0, "000001": 11.5,
    "002142": 27, "600030": 28, "601688": 19, "600999": 19, "601881": 16, "601995": 38,
    "000776": 20, "000166": 5.5, "300059": 26,
    # 医药
    "600276": 60, "600196": 28, "600436": 200, "603259": 70, "600085": 36, "688271": 130,
    "000538": 56, "000661": 110, "000963": 38, "300760": 230, "300015": 12, "300122": 20,
    "300347": 55, "300896": 170, "832982": 260,
    # 家电 / 汽车
    "600690": 26, "000333": 75, "000651": 42, "002050": 30, "600104": 17, "601633": 23,
    "601127": 140, "600660": 58, "002594": 105, "000625": 12.5, "000338": 15,
    # 能源 / 电力 / 资源
    "600900": 28, "600795": 5.2, "601985": 9.2, "600905": 4.3, "600028": 5.8, "601857": 8.5,
    "600938": 26, "601088": 38, "000983": 6.8, "601899": 20, "600111": 40, "601600": 8.0,
    "002460": 45, "002466": 45, "600019": 7.0, "000708": 12, "600309": 62, "000792": 20,
    "002493": 9.5,
    # 建筑 / 建材 / 地产 / 消费 / 通信
    "600585": 23, "000786": 26, "601668": 5.6, "601390": 5.8, "600048": 8.5, "000002": 6.5,
    "001979": 10, "601888": 65, "600050": 5.5, "600941": 108, "601728": 7.2, "000063": 38,
    "688036": 75, "300308": 300, "300502": 250,
    # 军工 / 新能源 / 电力设备 / 机械
    "600760": 50, "600893": 38, "600150": 35, "000768": 28, "002179": 35, "601012": 17,
    "600438": 19, "688599": 17, "688223": 5.5, "002459": 11, "002202": 11, "300750": 380,
    "300274": 100, "300014": 55, "835185": 28, "600406": 23, "600089": 13, "601766": 7.2,
    "600031": 19, "000157": 8.0, "000425": 9.0, "300124": 75,
    # 半导体 / 电子 / 计算机
    "600584": 36, "603986": 120, "688981": 90, "688041": 160, "688012": 200, "688256": 1200,
    "688008": 90, "002371": 430, "002049": 70, "300782": 70, "601138": 45, "000725": 4.2,
    "000100": 4.8, "002475": 45, "002241": 27, "300408": 40, "600588": 14, "600570": 28,
    "688111": 300, "002415": 29, "002230": 48, "002410": 13, "000977": 55, "300033": 300,
    # 交通运输 / 农业 / 传媒
    "601919": 15, "601006": 5.5, "601816": 5.6, "600029": 5.8, "002352": 40, "000876": 9.0,
    "002714": 42, "002311": 55, "300498": 17, "002027": 7.2, "300413": 26,
    # ETF
    "510300": 4.0, "510050": 2.9, "510500": 6.2, "512100": 2.6, "510180": 10.5, "588000": 1.1,
    "510880": 3.1, "512880": 1.2, "512000": 0.6, "512800": 0.85, "512480": 1.2, "512760": 1.3,
    "512660": 1.2, "512010": 0.4, "512170": 0.38, "512690": 0.6, "515030": 1.3, "515790": 0.9,
    "518880": 6.5, "513100": 1.8, "513050": 1.3, "513180": 0.75, "511010": 140, "511260": 120,
    "511880": 102, "511990": 100, "159915": 2.6, "159949": 1.2, "159901": 4.8, "159928": 0.8,
    "159920": 1.3,
}  # fmt: skip


def base_price(code: str) -> float:
    """A realistic price level for ``code``; a stable pseudo-random 5–60 元 for unknown codes."""
    if code in BASE_PRICES:
        return BASE_PRICES[code]
    return round(5 + (int.from_bytes(code.encode(), "big") % 5500) / 100, 2)


def daily_volatility(code: str, kind: str, industry: str = "") -> float:
    """Standard deviation of the daily return used by the random walk."""
    if industry == "货币基金":
        return 0.0001
    if industry == "债券基金":
        return 0.002
    if kind == "index":
        return 0.009
    if kind in ("etf", "fund"):
        return 0.012
    return 0.02


def price_decimals(kind: str) -> int:
    """Quoted decimals: ETFs and funds trade in 0.001 元, stocks and indexes in 0.01."""
    return 3 if kind in ("etf", "fund") else 2


def last_weekday_before(day: dt.date) -> dt.date:
    """The most recent Monday–Friday strictly before ``day``."""
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def trading_days(end: dt.date, count: int) -> list[dt.date]:
    """``count`` weekdays ending at ``end`` (inclusive), oldest first. Holidays are not modelled."""
    days: list[dt.date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def price_walk(rng: random.Random, *, code: str, kind: str, industry: str, days: int) -> list[Decimal]:
    """``days`` daily closes (oldest first) as a random walk that ends within a few per cent of
    :func:`base_price`, so the latest close is realistic; rounded to the quoted decimals."""
    vol = daily_volatility(code, kind, industry)
    jitter = min(0.05, vol * 2)
    level = 1.0
    walk: list[float] = []
    for _ in range(days):
        level *= math.exp(rng.gauss(0.0003, vol))
        walk.append(level)
    scale = base_price(code) * rng.uniform(1 - jitter, 1 + jitter) / walk[-1]
    places = price_decimals(kind)
    floor = 10 ** (-places)
    return [Decimal(f"{max(floor, v * scale):.{places}f}") for v in walk]


# --- Clients ------------------------------------------------------------------------------------------
# Surnames weighted towards the most common (王、李、张 ... cover a large share of the population).
_SURNAME_WEIGHTS = [1 / (i + 3) ** 0.9 for i in range(len(SURNAMES))]
# Account openings by year: more in the bull markets of 2007, 2015, 2020–21 and late 2024.
_OPEN_YEAR_WEIGHTS = {2007: 3.0, 2008: 1.5, 2014: 2.0, 2015: 4.0, 2016: 1.5, 2020: 2.0, 2021: 2.5, 2024: 2.0}
# Total assets: log-normal, calibrated so that over all clients (dormant ones hold less, closed ones
# nothing) about 5 % hold >= 500 万 and about 25 % >= 50 万; the median is about 10 万.
_Z_LARGE = NormalDist().inv_cdf(1 - 0.058)
_Z_MEDIUM = NormalDist().inv_cdf(1 - 0.285)
ASSETS_SIGMA = math.log(10) / (_Z_LARGE - _Z_MEDIUM)
ASSETS_MU = math.log(500_000) - _Z_MEDIUM * ASSETS_SIGMA
ASSETS_MAX = 300_000_000.0
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
RISK_WEIGHTS = (8, 17, 40, 25, 10)
STATUSES = ("active", "dormant", "closed")
STATUS_WEIGHTS = (85, 12, 3)
PREMIUM_RATES = ("0.5000", "0.6000", "0.8000", "1.0000")
STANDARD_RATES = ("0.1500", "0.1800", "0.2000", "0.2500", "0.3000")
TAGS = ("退休", "企业主", "价格敏感", "偏好科技股", "偏好红利", "两融客户", "长期持有", "短线交易")
RISK_VALID_DAYS = 730
RISK_EXPIRED_SHARE = 0.17  # a little over 15 %: some recent accounts cannot have an old assessment


class ClientData(NamedTuple):
    """One synthetic client's personal and account fields (everything but branch, number and owner)."""

    name: str
    gender: str
    birthday: dt.date
    id_number: str
    phone: str
    opened_on: dt.date
    status: str
    risk_level: str
    risk_assessed_on: dt.date
    total_assets: Decimal
    is_premium: bool
    commission_rate: Decimal | None
    tags: list[str]


@dataclass
class DemoDataGenerator:
    """Deterministic source of synthetic people and accounts; one ``random.Random`` per instance."""

    seed: int = 42
    today: dt.date = field(default_factory=dt.date.today)
    regions: Sequence[str] = ALL_REGIONS
    home_share: float = 0.7  # share of clients born in ``regions``; the rest anywhere in REGION_CODES

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        years = range(2005, self.today.year + 1)
        self._open_years = list(years)
        self._open_weights = [_OPEN_YEAR_WEIGHTS.get(y, 1.0) for y in years]

    # people
    def gender(self) -> str:
        return "M" if self.rng.random() < 0.55 else "F"

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]

    def person_name(self, gender: str) -> str:
        chars = GIVEN_CHARS_MALE if gender == "M" else GIVEN_CHARS_FEMALE
        given = self.rng.choice(chars)
        if self.rng.random() < 0.7:
            given += self.rng.choice(chars)
        return self.surname() + given

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def birthday(self) -> dt.date:
        """Aged 20–85, most around 50 (securities clients are older than the population)."""
        age = self.rng.triangular(20, 85, 50)
        born = self.today - dt.timedelta(days=int(age * 365.25))
        return born

    def region(self) -> str:
        if self.rng.random() < self.home_share:
            return self.rng.choice(self.regions)
        return self.rng.choice(ALL_REGIONS)

    def id_number(self, birthday: dt.date, gender: str, region: str | None = None) -> str:
        """An 18-character resident ID number matching ``birthday`` and ``gender``."""
        seq = self.rng.randrange(100) * 10 + self.rng.choice(
            (1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8)
        )
        first17 = f"{region or self.region()}{birthday:%Y%m%d}{seq:03d}"
        return first17 + id_check_digit(first17)

    # accounts
    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def opened_on(self, birthday: dt.date) -> dt.date:
        year = self.rng.choices(self._open_years, weights=self._open_weights)[0]
        day = self._date_between(dt.date(year, 1, 1), min(dt.date(year, 12, 31), self.today))
        try:
            adult = birthday.replace(year=birthday.year + 18)
        except ValueError:  # born on 29 February
            adult = birthday.replace(year=birthday.year + 18, day=28)
        if day < adult:
            day = self._date_between(adult, min(adult + dt.timedelta(days=365), self.today))
        return day

    def risk_assessed_on(self, opened: dt.date) -> dt.date:
        """Within the last two years, or for ~15 % of clients longer ago (the assessment has expired)."""
        valid_from = self.today - dt.timedelta(days=RISK_VALID_DAYS - 1)
        if self.rng.random() < RISK_EXPIRED_SHARE and opened < valid_from - dt.timedelta(days=1):
            start = max(opened, self.today - dt.timedelta(days=8 * 365))
            return self._date_between(start, valid_from - dt.timedelta(days=2))
        return self._date_between(max(opened, valid_from), self.today)

    def total_assets(self, status: str) -> Decimal:
        if status == "closed":
            return Decimal("0.00")
        value = min(ASSETS_MAX, math.exp(self.rng.gauss(ASSETS_MU, ASSETS_SIGMA)))
        if status == "dormant":
            value *= self.rng.uniform(0.05, 0.6)
        return Decimal(f"{value:.2f}")

    def client(
        self,
        *,
        name: str | None = None,
        gender: str | None = None,
        status: str | None = None,
        large_threshold: float = 5e6,
    ) -> ClientData:
        """A whole synthetic client. ``name``/``gender``/``status`` force those fields (e.g. 张三,
        male, active); ``large_threshold`` makes premium clients more likely among the large."""
        rng = self.rng
        gender = gender or self.gender()
        name = name or self.person_name(gender)
        birthday = self.birthday()
        opened = self.opened_on(birthday)
        drawn_status = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
        status = status or drawn_status
        assets = self.total_assets(status)
        premium_p = 0.35 if assets >= large_threshold else 0.10 if assets >= large_threshold / 10 else 0.01
        is_premium = status == "active" and rng.random() < premium_p
        if is_premium:
            rate: Decimal | None = Decimal(rng.choice(PREMIUM_RATES))
        elif rng.random() < 0.4:
            rate = Decimal(rng.choice(STANDARD_RATES))
        else:
            rate = None
        tags = rng.sample(TAGS, rng.choice((1, 1, 2))) if rng.random() < 0.2 else []
        return ClientData(
            name=name,
            gender=gender,
            birthday=birthday,
            id_number=self.id_number(birthday, gender),
            phone=self.mobile(),
            opened_on=opened,
            status=status,
            risk_level=rng.choices(RISK_LEVELS, weights=RISK_WEIGHTS)[0],
            risk_assessed_on=self.risk_assessed_on(opened),
            total_assets=assets,
            is_premium=is_premium,
            commission_rate=rate,
            tags=tags,
        )

    # holdings
    def holdings(
        self, assets: Decimal, market: Market, count: int | None = None
    ) -> list[tuple[MarketQuote, int, Decimal]]:
        """2–6 positions (or ``count``) sized to ``assets``: ``(quote, quantity, cost_price)``.

        Securities are drawn among those a position of this size can afford (at least one lot);
        quantities are whole lots of 100; the cost price is within ±25 % of the last close, with the
        security's quoted decimals plus one (as the counter systems show it)."""
        rng = self.rng
        quotes = market.quotes
        n = min(count if count is not None else rng.randint(2, 6), len(quotes))
        if n <= 0:
            return []
        per_position = float(assets) * rng.uniform(0.5, 0.95) / n
        affordable = bisect.bisect_right(market.lot_values, per_position * 1.5)
        pool = quotes[: max(affordable, n, 12)]
        out: list[tuple[MarketQuote, int, Decimal]] = []
        for quote in rng.sample(pool, n):
            target = per_position * rng.uniform(0.5, 1.5)
            lots = max(1, min(int(target / (quote.close_f * 100)), 1_000_000))
            cost = quote.close_f * rng.uniform(0.75, 1.25)
            places = quote.decimals + 1
            out.append((quote, lots * 100, Decimal(f"{max(cost, 10**-places):.{places}f}")))
        return out


class MarketQuote(NamedTuple):
    """What holding generation needs to know about a security: its id, last close and decimals."""

    security_id: int
    close: Decimal
    decimals: int

    @property
    def close_f(self) -> float:
        return float(self.close)


class Market:
    """Tradable quotes sorted by price, so that holdings pick affordable securities quickly."""

    def __init__(self, quotes: Iterable[MarketQuote]) -> None:
        self.quotes = sorted(quotes, key=lambda q: q.close)
        self.lot_values = [q.close_f * 100 for q in self.quotes]

    def __len__(self) -> int:
        return len(self.quotes)


class NamePool:
    """A fixed pool of distinct names per gender with their pinyin computed once.

    Computing pinyin costs ~50 µs a name; a million clients drawn from a pool of a few tens of
    thousands of names (real populations repeat names a lot too) keeps ``gen_scale`` fast."""

    def __init__(self, gen: DemoDataGenerator, per_gender: int = 40_000) -> None:
        self.rng = gen.rng
        self.pools: dict[str, list[tuple[str, str, str]]] = {}
        for gender in ("M", "F"):
            names: set[str] = set()
            attempts = 0
            while len(names) < per_gender and attempts < per_gender * 20:
                names.add(gen.person_name(gender))
                attempts += 1
            self.pools[gender] = [(n, *name_pinyin.__wrapped__(n)) for n in sorted(names)]

    def draw(self, gender: str) -> tuple[str, str, str]:
        """``(name, full pinyin, initials)`` of a random pooled name of ``gender``."""
        return self.rng.choice(self.pools[gender])


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers differing by at most one (larger ones first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
