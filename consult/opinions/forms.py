from flask_wtf.file import FileField
from wtforms import FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from consult.fields import Form, LocalDateField

# The server checks the real limit and says so in Vietnamese; this is only a
# ceiling on what a form field will carry.
TEXT_CEILING = 200_000


class ResidentOpinionForm(Form):
    part_id = SelectField("Góp ý cho", coerce=int, default=0)
    text = TextAreaField("Nội dung góp ý", validators=[Length(max=TEXT_CEILING)], render_kw={"rows": 7})
    name = StringField("Họ và tên", validators=[Length(max=400)], render_kw={"autocomplete": "name"})
    group_id = SelectField("Khu phố, thôn", coerce=int, default=0)
    phone = StringField("Số điện thoại (không bắt buộc)", validators=[Optional(), Length(max=30)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})


class UnitCommentForm(Form):
    part_id = SelectField("Góp ý cho", coerce=int, default=0)
    text = TextAreaField("Nội dung góp ý", validators=[Length(max=TEXT_CEILING)], render_kw={"rows": 6})


class CommentRow(Form):
    class Meta:
        csrf = False

    part_id = SelectField("Phần", coerce=int, default=0)
    text = TextAreaField("Ý kiến", validators=[Length(max=TEXT_CEILING)], render_kw={"rows": 3})


class PaperReplyForm(Form):
    unit_id = SelectField("Đơn vị", coerce=int, validators=[DataRequired("Vui lòng chọn đơn vị.")])
    kind = RadioField("Nội dung trả lời", choices=[("agree", "Nhất trí với dự thảo, không có ý kiến góp ý"),
                                                   ("comments", "Có ý kiến góp ý (ghi ở dưới)")], default="agree")
    letter_number = StringField("Số công văn trả lời", validators=[Optional(), Length(max=60)])
    letter_date = LocalDateField("Ngày công văn (dd/mm/yyyy)", validators=[Optional()])
    attachment = FileField("Bản quét công văn (PDF, PNG, JPG)")
    comments = FieldList(FormField(CommentRow), min_entries=5, max_entries=20)
