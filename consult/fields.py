"""WTForms fields shared by several forms: dates and times entered in local time."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import ValidationError

from consult.timeutil import format_date, format_datetime, parse_local_date, parse_local_datetime


class LocalDateTimeField(StringField):
    """'17:00 10/10/2024' in Asia/Ho_Chi_Minh; ``data`` is an aware UTC datetime."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_datetime(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_local_datetime(valuelist[0])
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class LocalDateField(StringField):
    """'19/09/2024'; ``data`` is a date."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_date(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_local_date(valuelist[0])
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
