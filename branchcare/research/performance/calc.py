"""Performance arithmetic of one stock recommendation: pure functions over price series, no database.

Definitions (shown to users on the league page):

- **Entry** (发布时价格): the security's close on the publication date, or the last close before it. The
  benchmark's entry is its close on (or just before) the same entry date.
- **N-day return**: the close on the N-th trading day after the entry date divided by the entry price,
  minus 1. Trading days are the exchange calendar's (``trading_days``); a security suspended on that day
  carries its last close forward. A horizon is computed only once both the security and the benchmark have
  prices up to that day (``closes`` / ``bench`` reach it); until then it is pending.
- **Excess return**: return minus benchmark return, turned round for 减持 / 卖出 (a fall is the
  recommendation coming true): ``sign × (r − r_benchmark)`` with sign −1 for reduce/sell.
- **Target / stop-loss**: the first trading day in the observation window whose close reaches the target
  (≥ for buy/add/hold, ≤ for reduce/sell) or the stop-loss (≤ resp. ≥). The first one reached decides the
  result; the window is ``horizon_days`` calendar days from publication when the item gives one, else 60
  trading days after the entry.
- **Status**: pending (no entry or no horizon yet), partial (some horizons or the window still open),
  complete (every horizon computed and the result decided).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

HORIZONS = (5, 20, 60)
DEFAULT_WINDOW = 60
INVERTED = frozenset({"reduce", "sell"})
PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Recommendation:
    """The inputs of one recommendation."""

    direction: str
    published_on: dt.date
    target_price: Decimal | None = None
    stop_loss: Decimal | None = None
    horizon_days: int | None = None


@dataclass(frozen=True)
class Horizon:
    day: dt.date
    close: Decimal
    benchmark_close: Decimal
    ret: Decimal
    benchmark_ret: Decimal
    excess: Decimal


@dataclass
class Outcome:
    status: str = "pending"
    entry_date: dt.date | None = None
    entry_price: Decimal | None = None
    benchmark_entry: Decimal | None = None
    horizons: dict[int, Horizon] = field(default_factory=dict)
    target_hit_on: dt.date | None = None
    stop_hit_on: dt.date | None = None
    window_end: dt.date | None = None
    result: str = "open"
    data_through: dt.date | None = None


class Series:
    """Daily closes of one security, looked up "on or before" a date in O(log n)."""

    def __init__(self, closes: Mapping[dt.date, Decimal]) -> None:
        self.dates = sorted(closes)
        self.closes = closes

    @property
    def last(self) -> dt.date | None:
        return self.dates[-1] if self.dates else None

    def on_or_before(self, day: dt.date) -> tuple[dt.date, Decimal] | None:
        i = bisect.bisect_right(self.dates, day)
        if i == 0:
            return None
        d = self.dates[i - 1]
        return d, self.closes[d]


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_UP)


def sign_for(direction: str) -> int:
    """+1 for buy/add/hold, −1 for reduce/sell."""
    return -1 if direction in INVERTED else 1


def compute_outcome(
    rec: Recommendation,
    *,
    trading_days: Sequence[dt.date],
    closes: Mapping[dt.date, Decimal] | Series,
    bench: Mapping[dt.date, Decimal] | Series,
    horizons: Sequence[int] = HORIZONS,
) -> Outcome:
    """The outcome of ``rec`` given the sorted ``trading_days`` (at least those after publication up to
    the data available), the security's ``closes`` and the benchmark's ``bench`` closes."""
    sec = closes if isinstance(closes, Series) else Series(closes)
    idx = bench if isinstance(bench, Series) else Series(bench)
    out = Outcome()
    entry = sec.on_or_before(rec.published_on)
    if entry is None or idx.last is None:
        return out
    entry_date, entry_price = entry
    bench_entry = idx.on_or_before(entry_date)
    if bench_entry is None or entry_price <= 0 or bench_entry[1] <= 0:
        return out
    out.entry_date, out.entry_price, out.benchmark_entry = entry_date, entry_price, bench_entry[1]
    assert sec.last is not None
    frontier: dt.date = min(sec.last, idx.last)
    out.data_through = frontier
    sign = sign_for(rec.direction)
    start = bisect.bisect_right(trading_days, entry_date)
    after = trading_days[start:]

    for n in horizons:
        if len(after) < n or after[n - 1] > frontier:
            continue
        day = after[n - 1]
        close = sec.on_or_before(day)
        bclose = idx.on_or_before(day)
        if close is None or bclose is None:  # pragma: no cover - entry exists, so both do
            continue
        ret = close[1] / entry_price - 1
        bret = bclose[1] / bench_entry[1] - 1
        out.horizons[n] = Horizon(
            day=day,
            close=close[1],
            benchmark_close=bclose[1],
            ret=_q(ret),
            benchmark_ret=_q(bret),
            excess=_q(sign * (ret - bret)),
        )

    # Observation window for target / stop-loss.
    if rec.horizon_days:
        window_end: dt.date | None = rec.published_on + dt.timedelta(days=rec.horizon_days)
    else:
        window_end = after[DEFAULT_WINDOW - 1] if len(after) >= DEFAULT_WINDOW else None
    out.window_end = window_end
    inverted = sign < 0
    for day in after:
        if day > frontier or (window_end is not None and day > window_end):
            break
        close_on = sec.closes.get(day)
        if close_on is None:
            continue
        if rec.target_price is not None and (
            close_on <= rec.target_price if inverted else close_on >= rec.target_price
        ):
            out.target_hit_on, out.result = day, "target"
            break
        if rec.stop_loss is not None and (
            close_on >= rec.stop_loss if inverted else close_on <= rec.stop_loss
        ):
            out.stop_hit_on, out.result = day, "stop"
            break
    if out.result == "open" and window_end is not None and frontier >= window_end:
        out.result = "expired"

    if not out.horizons:
        out.status = "pending"
    elif len(out.horizons) == len(horizons) and out.result != "open":
        out.status = "complete"
    else:
        out.status = "partial"
    return out


def price_path(
    *,
    entry_date: dt.date,
    trading_days: Sequence[dt.date],
    closes: Mapping[dt.date, Decimal] | Series,
    bench: Mapping[dt.date, Decimal] | Series,
    days: int,
) -> list[tuple[dt.date, float, float]]:
    """``[(day, security %, benchmark %)]``: cumulative change from the entry, day by day, for the entry
    day and up to ``days`` trading days after it (as far as both series reach)."""
    sec = closes if isinstance(closes, Series) else Series(closes)
    idx = bench if isinstance(bench, Series) else Series(bench)
    base = sec.on_or_before(entry_date)
    bbase = idx.on_or_before(entry_date)
    if base is None or bbase is None or sec.last is None or idx.last is None:
        return []
    frontier = min(sec.last, idx.last)
    start = bisect.bisect_right(trading_days, entry_date)
    points = [(entry_date, 0.0, 0.0)]
    for day in trading_days[start : start + days]:
        if day > frontier:
            break
        c = sec.on_or_before(day)
        b = idx.on_or_before(day)
        if c is None or b is None:  # pragma: no cover
            continue
        points.append(
            (day, round(float(c[1] / base[1] - 1) * 100, 2), round(float(b[1] / bbase[1] - 1) * 100, 2))
        )
    return points
