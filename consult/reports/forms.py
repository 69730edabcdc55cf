from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from consult.fields import Form, LocalDateField
from consult.reports.models import DECISIONS


class DecisionForm(Form):
    decision = RadioField("Hướng xử lý", choices=list(DECISIONS.items()), validate_choice=False)
    explanation = TextAreaField("Giải trình (bắt buộc khi không tiếp thu)", validators=[Length(max=20_000)],
                                render_kw={"rows": 3})
    revised_text = TextAreaField("Nội dung sửa đổi của phần (nếu có)", validators=[Length(max=20_000)],
                                 render_kw={"rows": 2})


class SettingsForm(Form):
    number = StringField("Số, ký hiệu", validators=[Optional(), Length(max=60)],
                         render_kw={"placeholder": "05/BC-UBND"})
    report_date = LocalDateField("Ngày báo cáo (dd/mm/yyyy)", validators=[Optional()])
    place = StringField("Địa danh", validators=[Optional(), Length(max=120)])
    signer_mode = SelectField("Thẩm quyền ký", choices=[("TM", "TM. Ủy ban nhân dân — Chủ tịch"),
                                                        ("KT", "KT. Chủ tịch — Phó Chủ tịch")])
    signer_name = StringField("Người ký", validators=[Optional(), Length(max=160)])
    recipients = TextAreaField("Nơi nhận (mỗi dòng một nơi)", validators=[Optional(), Length(max=2000)],
                               render_kw={"rows": 4})
