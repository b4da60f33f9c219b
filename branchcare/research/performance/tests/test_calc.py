"""Performance arithmetic on known price series (pure functions, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from branchcare.research.performance import calc

DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(120)]  # every day a "trading day"
P0 = DAYS[0]


def flat(value: str = "100") -> dict[dt.date, D]:
    return dict.fromkeys(DAYS, D(value))


def rising(start: int = 10, step: str = "0.1") -> dict[dt.date, D]:
    return {d: D(start) + D(step) * i for i, d in enumerate(DAYS)}


def test_returns_benchmark_and_excess_at_5_20_60_days():
    bench = {d: D("1000") + i for i, d in enumerate(DAYS)}  # +0.5 % after 5 days
    out = calc.compute_outcome(
        calc.Recommendation("buy", P0), trading_days=DAYS, closes=rising(), bench=bench
    )
    assert out.entry_date == P0 and out.entry_price == D("10")
    h5, h20, h60 = out.horizons[5], out.horizons[20], out.horizons[60]
    assert h5.day == DAYS[5] and h5.ret == D("0.050000") and h5.benchmark_ret == D("0.005000")
    assert h5.excess == D("0.045000")
    assert h20.ret == D("0.200000") and h20.benchmark_ret == D("0.020000") and h20.excess == D("0.180000")
    assert h60.ret == D("0.600000") and h60.excess == D("0.540000")


def test_entry_is_the_close_just_before_publication_when_none_on_the_day():
    closes = rising()
    published = DAYS[3]
    del closes[published]  # suspended / not a trading day for this security
    out = calc.compute_outcome(
        calc.Recommendation("buy", published), trading_days=DAYS, closes=closes, bench=flat()
    )
    assert out.entry_date == DAYS[2] and out.entry_price == D("10.2")


def test_suspension_on_the_horizon_day_carries_the_last_close_forward():
    closes = rising()
    del closes[DAYS[5]]
    out = calc.compute_outcome(calc.Recommendation("buy", P0), trading_days=DAYS, closes=closes, bench=flat())
    assert out.horizons[5].close == D("10.4")


def test_target_hit_before_stop_buy():
    rec = calc.Recommendation("buy", P0, target_price=D("11"), stop_loss=D("9"))
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=rising(), bench=flat())
    assert out.target_hit_on == DAYS[10] and out.stop_hit_on is None and out.result == "target"
    assert out.status == "complete"


def test_stop_hit_buy():
    falling = {d: D("10") - D("0.1") * i for i, d in enumerate(DAYS[:80])}
    rec = calc.Recommendation("buy", P0, target_price=D("12"), stop_loss=D("9.5"))
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=falling, bench=flat())
    assert out.stop_hit_on == DAYS[5] and out.target_hit_on is None and out.result == "stop"
    assert out.horizons[5].ret == D("-0.050000")


def test_sell_direction_inverts_target_stop_and_excess():
    falling = {d: D("10") - D("0.05") * i for i, d in enumerate(DAYS[:80])}
    rec = calc.Recommendation("sell", P0, target_price=D("9"), stop_loss=D("11"))
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=falling, bench=flat())
    assert out.result == "target" and out.target_hit_on == DAYS[20]
    assert out.horizons[20].ret == D("-0.100000")
    assert out.horizons[20].excess == D("0.100000")  # the fall made the sell call right


def test_reduce_direction_stop_when_price_rises():
    rec = calc.Recommendation("reduce", P0, target_price=D("9"), stop_loss=D("10.5"))
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=rising(), bench=flat())
    assert out.result == "stop" and out.stop_hit_on == DAYS[5]
    assert out.horizons[5].excess == D("-0.050000")


def test_missing_prices_leave_the_outcome_pending():
    rec = calc.Recommendation("buy", P0)
    assert calc.compute_outcome(rec, trading_days=DAYS, closes={}, bench=flat()).status == "pending"
    only_before = {DAYS[0]: D("10")}
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=only_before, bench=flat())
    assert out.status == "pending" and out.entry_price == D("10") and out.horizons == {}
    # no benchmark: nothing can be measured
    assert calc.compute_outcome(rec, trading_days=DAYS, closes=rising(), bench={}).status == "pending"


def test_partial_until_the_60th_day_then_complete():
    closes = {d: c for d, c in rising().items() if d <= DAYS[30]}
    bench = {d: c for d, c in flat().items() if d <= DAYS[30]}
    out = calc.compute_outcome(calc.Recommendation("hold", P0), trading_days=DAYS, closes=closes, bench=bench)
    assert out.status == "partial" and set(out.horizons) == {5, 20} and out.result == "open"
    assert out.data_through == DAYS[30]
    full = calc.compute_outcome(
        calc.Recommendation("hold", P0), trading_days=DAYS, closes=rising(), bench=flat()
    )
    assert full.status == "complete" and full.result == "expired" and full.window_end == DAYS[60]


def test_benchmark_lagging_holds_the_horizon_back():
    bench = {d: c for d, c in flat().items() if d <= DAYS[4]}
    out = calc.compute_outcome(
        calc.Recommendation("buy", P0), trading_days=DAYS, closes=rising(), bench=bench
    )
    assert out.horizons == {} and out.status == "pending"


def test_horizon_days_set_the_observation_window():
    rec = calc.Recommendation("buy", P0, target_price=D("13"), horizon_days=10)
    out = calc.compute_outcome(rec, trading_days=DAYS, closes=rising(), bench=flat())
    assert out.window_end == P0 + dt.timedelta(days=10)
    assert out.result == "expired" and out.target_hit_on is None  # 13 reached only on day 30


def test_price_path_is_cumulative_percent_from_entry():
    path = calc.price_path(entry_date=P0, trading_days=DAYS, closes=rising(), bench=flat(), days=5)
    assert path[0] == (P0, 0.0, 0.0)
    assert path[5] == (DAYS[5], 5.0, 0.0)
    assert len(path) == 6
