"""The trading calendar: library sessions, overrides, coverage past the library's range, caching,
the calendar services and the 工作台 warning."""

from __future__ import annotations

import datetime as dt

import pytest

from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.core.sla import SHANGHAI, CalendarRangeError, add_working_time
from branchcare.org.calendar import (
    calendar_days,
    calendar_days_remaining,
    calendar_status,
    is_trading_day,
    library_range,
    next_trading_day,
    service_calendar_for,
    trading_calendar,
    trading_days_between,
)
from branchcare.org.models import CalendarCoverage, CalendarOverride, ServiceStandard
from branchcare.org.services_standards import (
    calendar_coverage_declare,
    calendar_override_add,
    calendar_override_remove,
)
from branchcare.org.workbench import calendar_warning_cards

D = dt.date
TODAY = D(2026, 11, 25)
HOLIDAY = CalendarOverride.Kind.HOLIDAY
TRADING_DAY = CalendarOverride.Kind.TRADING_DAY


@pytest.fixture
def year_2027(world):
    """The administrator has entered 2027's New Year holiday and declared 2027 known."""
    calendar_override_add(
        actor=world["admin"], date=D(2027, 1, 1), kind=HOLIDAY, name="2027年元旦", today=TODAY
    )
    calendar_coverage_declare(actor=world["admin"], known_until=D(2027, 12, 31), today=TODAY)


# --- library days ----------------------------------------------------------------------------------------


def test_library_knows_xshg_sessions_up_to_2026(db):
    assert library_range() == (D(2006, 11, 27), D(2026, 12, 31))
    assert is_trading_day(D(2026, 10, 1)) is False  # National Day
    assert is_trading_day(D(2026, 10, 9)) is True
    assert is_trading_day(D(2026, 10, 10)) is False  # Saturday (a make-up working day, still closed)
    assert is_trading_day(D(2026, 12, 31)) is True


def test_next_trading_day_and_days_between_skip_the_holiday(db):
    assert next_trading_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert trading_days_between(D(2026, 9, 28), D(2026, 10, 9)) == [
        D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9),
    ]  # fmt: skip
    assert trading_days_between(D(2026, 10, 9), D(2026, 10, 1)) == []


def test_past_the_known_range_refuses_with_a_chinese_message(db):
    with pytest.raises(CalendarRangeError) as exc:
        is_trading_day(D(2027, 1, 4))
    assert "2026-12-31" in str(exc.value)
    assert "请管理员先录入新一年的节假日安排" in str(exc.value)
    with pytest.raises(CalendarRangeError):
        next_trading_day(D(2026, 12, 31))
    with pytest.raises(CalendarRangeError):
        trading_days_between(D(2026, 12, 1), D(2027, 1, 8))
    with pytest.raises(CalendarRangeError):  # an SLA clock does not run off the calendar's end
        add_working_time(
            trading_calendar(), dt.datetime(2026, 12, 31, 14, 0, tzinfo=SHANGHAI), dt.timedelta(hours=4)
        )


def test_before_the_known_range_refuses_too(db):
    with pytest.raises(CalendarRangeError):
        is_trading_day(D(2000, 1, 4))


# --- coverage and overrides -----------------------------------------------------------------------------


def test_coverage_extends_weekdays_minus_the_entered_holidays(year_2027):
    cal = trading_calendar()

    assert cal.known_until == D(2027, 12, 31)
    assert is_trading_day(D(2027, 1, 1), cal=cal) is False  # the entered holiday
    assert is_trading_day(D(2027, 1, 2), cal=cal) is False  # Saturday
    assert is_trading_day(D(2027, 1, 4), cal=cal) is True  # Monday
    assert next_trading_day(D(2026, 12, 31), cal=cal) == D(2027, 1, 4)
    with pytest.raises(CalendarRangeError) as exc:
        is_trading_day(D(2028, 1, 3), cal=cal)
    assert "2027-12-31" in str(exc.value)


def test_latest_coverage_declaration_wins(year_2027, world):
    calendar_coverage_declare(actor=world["admin"], known_until=D(2027, 6, 30), today=TODAY)

    assert trading_calendar().known_until == D(2027, 6, 30)
    with pytest.raises(CalendarRangeError):
        is_trading_day(D(2027, 7, 1))


def test_a_trading_day_override_adds_a_day_the_library_marks_closed(world):
    calendar_override_add(
        actor=world["admin"], date=D(2026, 10, 7), kind=TRADING_DAY, name="临时开市", today=D(2026, 9, 1)
    )

    assert is_trading_day(D(2026, 10, 7)) is True
    assert next_trading_day(D(2026, 9, 30)) == D(2026, 10, 7)


def test_a_holiday_override_removes_a_library_trading_day(world):
    calendar_override_add(
        actor=world["admin"], date=D(2026, 12, 30), kind=HOLIDAY, name="临时休市", today=TODAY
    )

    assert is_trading_day(D(2026, 12, 30)) is False
    days = calendar_days(D(2026, 12, 29), D(2026, 12, 31))
    assert [(d.date.day, d.is_trading_day, d.name) for d in days] == [
        (29, True, ""), (30, False, "临时休市"), (31, True, ""),
    ]  # fmt: skip


def test_calendar_days_marks_unknown_dates_when_not_strict(db):
    days = calendar_days(D(2026, 12, 31), D(2027, 1, 2), strict=False)

    assert [d.is_trading_day for d in days] == [True, None, None]
    with pytest.raises(CalendarRangeError):
        calendar_days(D(2026, 12, 31), D(2027, 1, 2))


def test_days_remaining_and_warning(world):
    assert calendar_days_remaining(TODAY) == 36
    assert calendar_status(TODAY).warn is False
    assert calendar_status(D(2026, 12, 2)).days_remaining == 29
    assert calendar_status(D(2026, 12, 2)).warn is True
    assert calendar_status(D(2027, 1, 5)).expired is True


def test_days_remaining_counts_the_declared_coverage(year_2027):
    assert calendar_days_remaining(TODAY) == (D(2027, 12, 31) - TODAY).days
    assert calendar_status(D(2026, 12, 20)).warn is False


# --- caching ---------------------------------------------------------------------------------------------


def test_calendar_is_cached_per_state_of_the_tables(world, django_assert_num_queries):
    first = trading_calendar()
    with django_assert_num_queries(2):  # the override and coverage tables, nothing else
        second = trading_calendar()
    assert second.days is first.days  # the same cached day set, not rebuilt


def test_cache_is_invalidated_when_an_override_is_added_or_removed(world):
    assert is_trading_day(D(2026, 12, 30)) is True

    override = calendar_override_add(
        actor=world["admin"], date=D(2026, 12, 30), kind=HOLIDAY, name="临时休市", today=TODAY
    )
    assert is_trading_day(D(2026, 12, 30)) is False

    calendar_override_remove(actor=world["admin"], override=override, today=TODAY)
    assert is_trading_day(D(2026, 12, 30)) is True


def test_service_calendar_uses_the_branch_service_hours(world):
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=D(2026, 1, 1), service_hours=[["09:00", "12:00"], ["13:00", "17:00"]]
    )
    start = dt.datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI)

    office = service_calendar_for(world.b1, D(2026, 9, 30))
    sessions = service_calendar_for(world.b2, D(2026, 9, 30))  # B002 has no standard: trading sessions

    # 2 h left on 30 Sep (till 17:00), then the National Day holiday, then 2 h on 8 Oct from 09:00.
    assert add_working_time(office, start, dt.timedelta(hours=4)) == dt.datetime(
        2026, 10, 8, 11, 0, tzinfo=SHANGHAI
    )
    # Trading sessions: 15:00 is already closed; 4 h runs 09:30–11:30 and 13:00–15:00 on 8 Oct.
    assert add_working_time(sessions, start, dt.timedelta(hours=4)) == dt.datetime(
        2026, 10, 8, 15, 0, tzinfo=SHANGHAI
    )


# --- calendar services -----------------------------------------------------------------------------------


def test_override_add_and_remove_are_audited(world):
    override = calendar_override_add(
        actor=world["admin"], date=D(2027, 1, 1), kind=HOLIDAY, name="2027年元旦", today=TODAY
    )
    calendar_override_remove(actor=world["admin"], override=override, today=TODAY)

    logs = list(AuditLog.objects.filter(action__startswith="calendar_override.").order_by("id"))
    assert [log.action for log in logs] == ["calendar_override.add", "calendar_override.remove"]
    assert logs[0].changes["date"] == [None, "2027-01-01"]
    assert logs[0].actor_username == "admin"
    assert logs[1].changes["name"] == ["2027年元旦", None]
    assert not CalendarOverride.objects.exists()


@pytest.mark.parametrize(
    ("date", "kind", "name", "message"),
    [
        (D(2027, 1, 2), HOLIDAY, "周六", "本来就休市"),
        (D(2027, 1, 9), TRADING_DAY, "调休", "周六、周日不开市"),
        (D(2026, 12, 30), TRADING_DAY, "多余", "已将 2026-12-30 列为交易日"),
        (D(2027, 1, 4), TRADING_DAY, "库外", "无需录入"),
        (D(2026, 11, 24), HOLIDAY, "过去", "已经过去的日期"),
        (D(2027, 1, 1), HOLIDAY, "  ", "请填写名称"),
        (D(2027, 1, 1), "closed", "类型", "请选择类型"),
        (D(2030, 1, 1), HOLIDAY, "太远", "三年以内"),
    ],
)
def test_override_add_refusals(world, date, kind, name, message):
    with pytest.raises(DomainError) as exc:
        calendar_override_add(actor=world["admin"], date=date, kind=kind, name=name, today=TODAY)

    assert message in exc.value.message
    assert not CalendarOverride.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="calendar_").exists()


def test_override_add_refuses_a_library_holiday(world):
    with pytest.raises(DomainError, match="列为休市日"):
        calendar_override_add(
            actor=world["admin"], date=D(2026, 10, 1), kind=HOLIDAY, name="国庆", today=D(2026, 9, 1)
        )


def test_override_add_refuses_a_second_entry_for_a_date(world):
    calendar_override_add(
        actor=world["admin"], date=D(2027, 1, 1), kind=HOLIDAY, name="2027年元旦", today=TODAY
    )

    with pytest.raises(DomainError, match="已录入为“2027年元旦”"):
        calendar_override_add(
            actor=world["admin"], date=D(2027, 1, 1), kind=HOLIDAY, name="元旦", today=TODAY
        )
    assert CalendarOverride.objects.count() == 1


@pytest.mark.parametrize("username", ["director", "b2director", "manager1"])
def test_only_company_administrators_change_the_calendar(world, username):
    with pytest.raises(DomainError, match="只有公司级系统管理员"):
        calendar_override_add(
            actor=world[username], date=D(2027, 1, 1), kind=HOLIDAY, name="元旦", today=TODAY
        )
    with pytest.raises(DomainError, match="只有公司级系统管理员"):
        calendar_coverage_declare(actor=world[username], known_until=D(2026, 12, 31), today=TODAY)

    assert not CalendarOverride.objects.exists()
    assert not CalendarCoverage.objects.exists()


def test_override_of_a_past_date_cannot_be_removed(world):
    override = calendar_override_add(
        actor=world["admin"], date=D(2027, 1, 1), kind=HOLIDAY, name="2027年元旦", today=TODAY
    )

    with pytest.raises(DomainError, match="不能删除已经过去的日期"):
        calendar_override_remove(actor=world["admin"], override=override, today=D(2027, 1, 2))
    assert CalendarOverride.objects.filter(pk=override.pk).exists()


def test_coverage_needs_the_holidays_entered_first(world):
    with pytest.raises(DomainError, match="还没有录入任何休市日") as exc:
        calendar_coverage_declare(actor=world["admin"], known_until=D(2027, 12, 31), today=TODAY)

    assert exc.value.field == "known_until"
    assert not CalendarCoverage.objects.exists()
    with pytest.raises(CalendarRangeError):
        is_trading_day(D(2027, 1, 4))


def test_coverage_cannot_shrink_below_the_library_or_reach_too_far(world):
    with pytest.raises(DomainError, match="不能早于"):
        calendar_coverage_declare(actor=world["admin"], known_until=D(2026, 6, 30), today=TODAY)
    with pytest.raises(DomainError, match="两年以内"):
        calendar_coverage_declare(actor=world["admin"], known_until=D(2029, 12, 31), today=TODAY)
    assert not CalendarCoverage.objects.exists()


def test_coverage_declaration_is_audited(year_2027):
    log = AuditLog.objects.get(action="calendar_coverage.declare")

    assert log.changes == {"known_until": ["2026-12-31", "2027-12-31"]}
    assert log.branch_id is None


def test_declaring_the_library_end_withdraws_an_extension(year_2027, world):
    calendar_coverage_declare(actor=world["admin"], known_until=D(2026, 12, 31), today=TODAY)

    assert trading_calendar().known_until == D(2026, 12, 31)


# --- 工作台 warning --------------------------------------------------------------------------------------


def test_no_calendar_warning_with_36_days_left(world):
    assert calendar_warning_cards(world["director"], today=TODAY) == []


@pytest.mark.parametrize(
    ("username", "cards"),
    [
        ("admin", 1),
        ("director", 1),
        ("b2director", 1),
        ("manager1", 0),
        ("consultant1", 0),
        ("compliance1", 0),
    ],
)
def test_calendar_warning_for_configurers_and_supervisors(world, username, cards):
    found = calendar_warning_cards(world[username], today=D(2026, 12, 5))

    assert len(found) == cards
    if cards:
        assert found[0].value == 26
        assert "2026-12-31" in found[0].note
        assert found[0].url == "/org/standards/calendar/"


def test_calendar_warning_once_the_calendar_has_run_out(world):
    (card,) = calendar_warning_cards(world["director"], today=D(2027, 1, 4))

    assert card.value == 0
    assert card.title == "交易日历已用完"
