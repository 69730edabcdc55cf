"""The one place for time.

Stored: UTC, always timezone-aware in Python (``UTCDateTime``).
Shown and entered: Asia/Ho_Chi_Minh, dates as dd/mm/yyyy, times as HH:MM.
Services take ``now`` so tests can stand one second past a deadline.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite keeps text; store it without an offset so it sorts as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def local_date(value: datetime) -> date:
    """The calendar date of an instant in Asia/Ho_Chi_Minh (never the UTC date)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime has no date in Viet Nam")
    return value.astimezone(LOCAL_TZ).date()


def today(now: datetime | None = None) -> date:
    """The product's "today": the date in Asia/Ho_Chi_Minh at ``now`` (default: the clock).

    Between 17:00 and 24:00 UTC this is the UTC date plus one day. Nothing else in
    the code computes today's date.
    """
    return local_date(now or utcnow())


def local_to_utc(value: datetime) -> datetime:
    """A naive local (Asia/Ho_Chi_Minh) wall-clock time to aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def format_datetime(value: datetime | None) -> str:
    """'17:00 10/10/2024', in local time."""
    if value is None:
        return ""
    return to_local(value).strftime("%H:%M %d/%m/%Y")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    return value.strftime("%d/%m/%Y")


def vietnamese_long_date(value: date, place: str = "") -> str:
    """'Bình An, ngày 05 tháng 01 năm 2025' (NĐ 30 Phụ lục I: a day below 10 and
    the months 1 and 2 take a leading zero; the months 3 to 9 do not: 'tháng 4')."""
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    text = f"ngày {value.day:02d} tháng {month} năm {value.year}"
    return f"{place}, {text}" if place else text


_DATE_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_DATETIME_RE = re.compile(
    r"^\s*(\d{1,2})\s*[:hH]\s*(\d{2})?\s*(?:ngày\s*)?(\d{1,2})/(\d{1,2})/(\d{4})\s*$"
)


def parse_local_date(text: str) -> date:
    """'10/10/2024' → date. Raises ValueError with a Vietnamese message."""
    m = _DATE_RE.match(text or "")
    if not m:
        raise ValueError("Ngày phải theo dạng dd/mm/yyyy, ví dụ 10/10/2024.")
    day, month, year = (int(x) for x in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("Ngày không có thật trên lịch.") from None


def parse_local_datetime(text: str) -> datetime:
    """'17:00 10/10/2024' or '17h00 ngày 10/10/2024' (local) → aware UTC."""
    m = _DATETIME_RE.match(text or "")
    if not m:
        raise ValueError("Thời điểm phải theo dạng HH:MM dd/mm/yyyy, ví dụ 17:00 10/10/2024.")
    hour, minute, day, month, year = m.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute or 0))
    except ValueError:
        raise ValueError("Thời điểm không có thật trên lịch.") from None
    return local_to_utc(local)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = local_to_utc(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def humanize_remaining(delta: timedelta) -> str:
    """'còn 3 ngày 4 giờ' style text for a countdown."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "đã hết hạn"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"còn {days} ngày {hours} giờ"
    if hours:
        return f"còn {hours} giờ {minutes} phút"
    return f"còn {max(minutes, 1)} phút"


def register_filters(app) -> None:
    app.jinja_env.filters["localdt"] = format_datetime
    app.jinja_env.filters["localdate"] = format_date
    app.jinja_env.filters["longdate"] = lambda value: vietnamese_long_date(
        local_date(value) if isinstance(value, datetime) else value)
