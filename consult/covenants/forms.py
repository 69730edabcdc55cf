from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from consult.covenants.models import KINDS
from consult.fields import Form, LocalDateField, LocalDateTimeField


class CovenantForm(Form):
    group_id = SelectField("Khu dân cư", coerce=int, choices=[])
    kind = SelectField("Loại", choices=list(KINDS.items()))
    title = StringField("Tên", validators=[DataRequired("Vui lòng nhập tên hương ước, quy ước."), Length(max=300)])
    text = TextAreaField("Nội dung dự thảo", validators=[DataRequired("Vui lòng nhập nội dung dự thảo."),
                                                         Length(max=200_000)], render_kw={"rows": 14})
    amends_id = HiddenField()


class DraftForm(Form):
    title = StringField("Tên", validators=[DataRequired("Vui lòng nhập tên hương ước, quy ước."), Length(max=300)])
    text = TextAreaField("Nội dung dự thảo", validators=[DataRequired("Vui lòng nhập nội dung dự thảo."),
                                                         Length(max=200_000)], render_kw={"rows": 14})


class OpenCommentsForm(Form):
    closes_at = LocalDateTimeField("Hạn góp ý (HH:MM dd/mm/yyyy; ít nhất 30 ngày)",
                                   validators=[InputRequired("Vui lòng nhập hạn góp ý.")])


class CommentForm(Form):
    name = StringField("Họ tên đại diện hộ", validators=[DataRequired("Vui lòng nhập họ tên."), Length(max=160)])
    address = StringField("Địa chỉ hộ", validators=[DataRequired("Vui lòng nhập địa chỉ."), Length(max=255)])
    text = TextAreaField("Ý kiến góp ý", validators=[DataRequired("Vui lòng nhập nội dung góp ý."), Length(max=5000)],
                         render_kw={"rows": 5})


class MeetingForm(Form):
    final_text = TextAreaField("Dự thảo trình cuộc họp (đã tiếp thu ý kiến)",
                               validators=[DataRequired("Vui lòng nhập nội dung trình cuộc họp."),
                                           Length(max=200_000)], render_kw={"rows": 14})
    opens_at = LocalDateTimeField("Bắt đầu họp (HH:MM dd/mm/yyyy)", validators=[InputRequired("Vui lòng nhập giờ họp.")])
    closes_at = LocalDateTimeField("Kết thúc họp (HH:MM dd/mm/yyyy)",
                                   validators=[InputRequired("Vui lòng nhập giờ kết thúc.")])
    announced_on = LocalDateField("Ngày thông báo cuộc họp cho các hộ (dd/mm/yyyy)", validators=[Optional()])
