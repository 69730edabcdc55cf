from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from consult.fields import Form


class ImportForm(Form):
    file = FileField("Tệp danh sách hộ (.csv UTF-8 hoặc .xlsx)")


class HouseholdForm(Form):
    group_id = SelectField("Khu phố, thôn", coerce=int)
    code = StringField("Mã hộ", validators=[DataRequired("Vui lòng nhập mã hộ."), Length(max=40)])
    representative = StringField("Họ tên đại diện hộ", validators=[DataRequired("Vui lòng nhập tên đại diện hộ."),
                                                                  Length(max=160)])
    address = StringField("Địa chỉ thường trú", validators=[DataRequired("Vui lòng nhập địa chỉ."), Length(max=255)])
    members = IntegerField("Số nhân khẩu", validators=[Optional(), NumberRange(1, 99, "Từ 1 đến 99.")])
