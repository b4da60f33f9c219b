"""The synthetic-data generators shared by seed_demo and gen_scale (pure Python, no database)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from branchcare.clients.demo_data import (
    BASE_PRICES,
    MOBILE_PREFIXES,
    REGION_CODES,
    DemoDataGenerator,
    Market,
    MarketQuote,
    NamePool,
    id_check_digit,
    id_number_birthday,
    id_number_gender,
    is_valid_id_number,
    last_weekday_before,
    price_walk,
    split_evenly,
    trading_days,
)
from branchcare.clients.pinyin import name_pinyin

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def clients():
    gen = DemoDataGenerator(seed=1, today=TODAY)
    return [gen.client() for _ in range(4000)]


def test_check_digit_matches_the_published_example():
    # GB 11643 example: 11010519491231002X
    assert id_check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")  # wrong check digit
    assert not is_valid_id_number("11010519491331002X")  # month 13
    assert not is_valid_id_number("1101051949123100")  # too short


def test_id_numbers_are_valid_and_match_birthday_and_gender(clients):
    for c in clients:
        assert len(c.id_number) == 18
        assert is_valid_id_number(c.id_number), c.id_number
        assert c.id_number[:6] in REGION_CODES
        assert id_number_birthday(c.id_number) == c.birthday
        assert id_number_gender(c.id_number) == c.gender


def test_id_number_for_given_birthday_and_gender():
    gen = DemoDataGenerator(seed=3, today=TODAY)
    for gender in ("M", "F"):
        value = gen.id_number(dt.date(1988, 2, 29), gender, region="310115")
        assert value.startswith("31011519880229")
        assert is_valid_id_number(value)
        assert id_number_gender(value) == gender


def test_phones_are_eleven_digits_on_real_prefixes(clients):
    for c in clients:
        assert len(c.phone) == 11 and c.phone.isdigit()
        assert c.phone[:3] in MOBILE_PREFIXES


def test_names_are_chinese_surname_plus_one_or_two_chars(clients):
    for c in clients:
        assert 2 <= len(c.name) <= 3
        full, initials = name_pinyin(c.name)
        assert initials.isalpha() and len(initials) == len(c.name)


def test_dates_are_plausible(clients):
    for c in clients:
        assert dt.date(2005, 1, 1) <= c.opened_on <= TODAY
        assert c.opened_on >= c.birthday.replace(year=c.birthday.year + 18, day=min(c.birthday.day, 28))
        assert c.opened_on <= c.risk_assessed_on <= TODAY
    expired = sum(c.risk_assessed_on < TODAY - dt.timedelta(days=730) for c in clients) / len(clients)
    assert 0.10 <= expired <= 0.20


def test_assets_follow_the_tier_mix(clients):
    large = sum(c.total_assets >= Decimal(5_000_000) for c in clients) / len(clients)
    medium_up = sum(c.total_assets >= Decimal(500_000) for c in clients) / len(clients)
    assert 0.03 <= large <= 0.08
    assert 0.18 <= medium_up <= 0.32
    assert all(c.total_assets == 0 for c in clients if c.status == "closed")
    statuses = {c.status for c in clients}
    assert statuses == {"active", "dormant", "closed"}
    assert sum(c.status == "active" for c in clients) / len(clients) > 0.75


def test_premium_clients_have_commission_rates(clients):
    premium = [c for c in clients if c.is_premium]
    assert premium
    assert all(c.commission_rate is not None and c.commission_rate >= Decimal("0.5") for c in premium)
    assert all(c.status == "active" for c in premium)


def test_same_seed_same_data():
    a = DemoDataGenerator(seed=9, today=TODAY)
    b = DemoDataGenerator(seed=9, today=TODAY)
    assert [a.client() for _ in range(20)] == [b.client() for _ in range(20)]


def test_forced_fields_are_kept():
    c = DemoDataGenerator(seed=5, today=TODAY).client(name="张三", gender="M", status="active")
    assert (c.name, c.gender, c.status) == ("张三", "M", "active")
    assert id_number_gender(c.id_number) == "M"


def test_trading_days_are_weekdays_ending_before_today():
    end = last_weekday_before(dt.date(2026, 11, 23))  # a Monday
    assert end == dt.date(2026, 11, 20)  # the Friday before
    days = trading_days(end, 30)
    assert len(days) == 30 and days[-1] == end and days == sorted(days)
    assert all(d.weekday() < 5 for d in days)


def test_price_walk_ends_near_the_base_price():
    index = price_walk(random.Random(1), code="000300", kind="index", industry="指数", days=30)
    assert len(index) == 30
    assert abs(index[-1] - Decimal(3900)) < Decimal(3900) * Decimal("0.05")
    etf = price_walk(random.Random(1), code="510300", kind="etf", industry="指数基金", days=30)
    assert all(p.as_tuple().exponent == -3 for p in etf)
    assert abs(float(etf[-1]) - BASE_PRICES["510300"]) < BASE_PRICES["510300"] * 0.05


def test_holdings_are_lots_of_100_near_the_close():
    market = Market(
        [MarketQuote(i, Decimal(p), 2) for i, p in enumerate(("5.20", "12.00", "38.50", "1450.00"), 1)]
    )
    gen = DemoDataGenerator(seed=2, today=TODAY)
    for _ in range(200):
        positions = gen.holdings(Decimal("300000"), market)
        assert 2 <= len(positions) <= 4
        assert len({q.security_id for q, _, _ in positions}) == len(positions)
        for quote, qty, cost in positions:
            assert qty > 0 and qty % 100 == 0
            assert quote.close * Decimal("0.74") <= cost <= quote.close * Decimal("1.26")


def test_name_pool_gives_distinct_names_with_pinyin():
    pool = NamePool(DemoDataGenerator(seed=4, today=TODAY), per_gender=300)
    assert len(pool.pools["M"]) == 300 and len({n for n, _, _ in pool.pools["F"]}) == 300
    name, full, initials = pool.draw("F")
    assert (full, initials) == name_pinyin(name)


def test_split_evenly():
    assert split_evenly(500, 3) == [167, 167, 166]
    assert sum(split_evenly(1_000_000, 7)) == 1_000_000
