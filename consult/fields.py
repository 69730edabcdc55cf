"""What every form shares: WTForms' own messages in Vietnamese, and dates and times entered
in local time."""

from __future__ import annotations

from flask_wtf import FlaskForm
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


class VietnameseMessages:
    """WTForms' own messages (a choice that is not offered, a text over its length, a field
    left empty...) in Vietnamese: the library ships no Vietnamese catalogue, and a form of
    consult never answers in English."""

    TEXTS = {
        "This field is required.": "Vui lòng điền mục này.",
        "Not a valid choice.": "Lựa chọn không hợp lệ; hãy chọn trong danh sách.",
        "Invalid Choice: could not coerce.": "Lựa chọn không hợp lệ; hãy chọn trong danh sách.",
        "Invalid choice(s): one or more data inputs could not be coerced.":
            "Lựa chọn không hợp lệ; hãy chọn trong danh sách.",
        "'%(value)s' is not a valid choice for this field.": "“%(value)s” không phải là lựa chọn hợp lệ.",
        "Not a valid integer value.": "Vui lòng nhập một số nguyên.",
        "Not a valid decimal value.": "Vui lòng nhập một số.",
        "Not a valid float value.": "Vui lòng nhập một số.",
        "Number must be at least %(min)s.": "Số phải từ %(min)s trở lên.",
        "Number must be at most %(max)s.": "Số không được lớn hơn %(max)s.",
        "Number must be between %(min)s and %(max)s.": "Số phải từ %(min)s đến %(max)s.",
        "Field must be at least %(min)d character long.": "Cần ít nhất %(min)d ký tự.",
        "Field cannot be longer than %(max)d character.": "Không được dài quá %(max)d ký tự.",
        "Field must be exactly %(max)d character long.": "Phải có đúng %(max)d ký tự.",
        "Field must be between %(min)d and %(max)d characters long.": "Phải có từ %(min)d đến %(max)d ký tự.",
        "Invalid email address.": "Địa chỉ thư điện tử không hợp lệ.",
        "Invalid input.": "Dữ liệu không hợp lệ.",
    }

    def gettext(self, string: str) -> str:
        return self.TEXTS.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.TEXTS.get(singular, singular if n == 1 else plural)


VIETNAMESE = VietnameseMessages()


class Form(FlaskForm):
    """The base of every form of consult (CSRF from Flask-WTF, messages in Vietnamese)."""

    class Meta:
        def get_translations(self, form):
            return VIETNAMESE
