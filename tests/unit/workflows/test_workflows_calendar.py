"""Working days: weekends and English bank holidays, from the `holidays` package's data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import workflows
from workflows.calendar import add_months, nth_weekday

CAL = workflows.WorkingCalendar(country="GB", subdivision="ENG")


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 11, 2), True),     # Monday
    (date(2026, 11, 7), False),    # Saturday
    (date(2026, 11, 8), False),    # Sunday
    (date(2026, 12, 25), False),   # Christmas Day, Friday
    (date(2026, 12, 28), False),   # Boxing Day falls on Saturday: substitute Monday
    (date(2026, 12, 29), True),
    (date(2027, 3, 26), False),    # Good Friday 2027
    (date(2027, 3, 29), False),    # Easter Monday 2027
    (date(2027, 1, 1), False),     # New Year's Day
    (date(2026, 8, 31), False),    # Summer bank holiday (England)
])
def test_working_days_exclude_weekends_and_english_bank_holidays(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 11, 6), 1, date(2026, 11, 9)),     # Friday + 1 is Monday
    (date(2026, 11, 2), 5, date(2026, 11, 9)),     # a week
    (date(2026, 12, 24), 1, date(2026, 12, 29)),   # over Christmas and substitute Boxing Day
    (date(2026, 12, 23), 5, date(2027, 1, 4)),     # over Christmas and New Year
    (date(2027, 3, 25), 1, date(2027, 3, 30)),     # over Easter 2027
    (date(2027, 3, 25), 0, date(2027, 3, 25)),
    (date(2026, 11, 7), 1, date(2026, 11, 9)),     # from a Saturday
    (date(2026, 12, 29), -1, date(2026, 12, 24)),  # backwards over Christmas
])
def test_adding_working_days_steps_over_weekends_and_bank_holidays(start, n, expected):
    assert CAL.add_working_days(start, n) == expected


def test_working_days_between_counts_days_after_the_start_up_to_the_end():
    assert CAL.working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert CAL.working_days_between(date(2027, 3, 25), date(2027, 4, 1)) == 3
    assert CAL.working_days_between(date(2026, 11, 9), date(2026, 11, 2)) == -5
    assert CAL.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0


@given(start=st.dates(date(2024, 1, 1), date(2030, 12, 31)), n=st.integers(0, 300))
def test_adding_then_counting_working_days_round_trips(start, n):
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    if n:
        assert CAL.is_working_day(end)


def test_scottish_bank_holidays_differ_from_english_ones():
    scotland = workflows.WorkingCalendar(country="GB", subdivision="SCT")
    assert CAL.is_working_day(date(2026, 1, 2))
    assert not scotland.is_working_day(date(2026, 1, 2))


def test_a_moment_falls_on_the_london_calendar_day():
    late_summer_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert CAL.local_date(late_summer_evening) == date(2026, 7, 1)
    assert CAL.local_date(late_summer_evening - timedelta(hours=1)) == date(2026, 6, 30)


def test_months_and_meeting_days():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2027, 2, 28), 12) == date(2028, 2, 28)
    assert nth_weekday(2026, 11, 1, 2) == date(2026, 11, 10)   # 2nd Tuesday
    assert nth_weekday(2026, 12, 1, 2) == date(2026, 12, 8)
    assert nth_weekday(2026, 11, 4, -1) == date(2026, 11, 27)  # last Friday
