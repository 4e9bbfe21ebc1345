"""Working days: weekends and bank holidays (the `holidays` package's data, no network)."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def add_months(when: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(year=year, month=month,
                        day=min(when.day, _calendar.monthrange(year, month)[1]))


def add_months_dt(when: datetime, months: int) -> datetime:
    day = add_months(when.date(), months)
    return when.replace(year=day.year, month=day.month, day=day.day)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1-5, or -1 for the last) given weekday of a month."""
    if nth < 0:
        last = date(year, month, _calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    if day.month != month:
        raise ValueError(f"there is no weekday {nth} of {year}-{month:02d}")
    return day


class WorkingCalendar:
    """Monday to Friday, less the bank holidays of a country (and subdivision: ENG, SCT...)."""

    def __init__(self, country: str = "GB", subdivision: str | None = "ENG",
                 timezone: str = "Europe/London"):
        self.country = country
        self.subdivision = subdivision
        self._holidays = holidays.country_holidays(country, subdiv=subdivision)
        try:
            self.timezone: ZoneInfo | None = ZoneInfo(timezone)
        except ZoneInfoNotFoundError:
            self.timezone = None

    def local_date(self, when: datetime | date) -> date:
        """The calendar day a moment falls on where the council is (UTC 23:30 in June is the
        next day in London)."""
        if not isinstance(when, datetime):
            return when
        if when.tzinfo is not None and self.timezone is not None:
            return when.astimezone(self.timezone).date()
        return when.date()

    @classmethod
    def for_profile(cls, bank_holidays: dict[str, str]) -> WorkingCalendar:
        return cls(country=bank_holidays.get("country", "GB"),
                   subdivision=bank_holidays.get("subdivision"))

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The nth working day after `day` (before it when n < 0); n == 0 gives `day` itself."""
        if isinstance(day, datetime):
            day = day.date()
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start),
        so that add_working_days(start, working_days_between(start, end)) <= end."""
        if isinstance(start, datetime):
            start = start.date()
        if isinstance(end, datetime):
            end = end.date()
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
