from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from consult.fields import Form, LocalDateField
from consult.publication.models import CHANNELS, SUBJECTS


class PostingForm(Form):
    subject = SelectField("Nội dung công khai", choices=list(SUBJECTS.items()))
    channel = SelectField("Nơi, hình thức công khai (Điều 13)", choices=list(CHANNELS.items()))
    group_id = SelectField("Khu dân cư (khi niêm yết tại nhà văn hóa)", coerce=int, choices=[])
    place = StringField("Địa điểm cụ thể hoặc địa chỉ trang đăng tải", validators=[Optional(), Length(max=300)])
    posted_on = LocalDateField("Ngày bắt đầu (dd/mm/yyyy)",
                               validators=[InputRequired("Vui lòng nhập ngày bắt đầu công khai.")])
    ended_on = LocalDateField("Ngày gỡ, ngày thông báo cuối (nếu đã kết thúc)", validators=[Optional()])
    confirmed_by = StringField("Người xác nhận (họ tên, chức vụ)",
                               validators=[DataRequired("Vui lòng ghi người xác nhận."), Length(max=200)])
    photo = FileField("Ảnh chụp nơi niêm yết (JPG, PNG; không bắt buộc)")


class EndForm(Form):
    ended_on = LocalDateField("Ngày gỡ (dd/mm/yyyy)", validators=[InputRequired("Vui lòng nhập ngày gỡ.")])
