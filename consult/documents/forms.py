from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

from consult.documents.models import PLAN_FORMS
from consult.fields import Form, LocalDateField

SIGNER_MODES = [("TM", "TM. Ủy ban nhân dân — Chủ tịch ký"), ("KT", "KT. Chủ tịch — Phó Chủ tịch ký")]


class PlanForm(Form):
    forms = SelectMultipleField("Hình thức lấy ý kiến (khoản 1 Điều 26; chọn một hoặc nhiều)",
                                choices=list(PLAN_FORMS.items()), widget=widgets.ListWidget(prefix_label=False),
                                option_widget=widgets.CheckboxInput())
    purpose = TextAreaField("I. Mục đích, yêu cầu", validators=[DataRequired("Vui lòng ghi mục đích, yêu cầu."),
                                                                Length(max=5000)], render_kw={"rows": 4})
    method = TextAreaField("IV. Cách thức thực hiện", validators=[DataRequired("Vui lòng ghi cách thức thực hiện."),
                                                                  Length(max=5000)], render_kw={"rows": 5})
    timeline = TextAreaField("V. Thời gian thực hiện (mỗi dòng một mốc)",
                             validators=[DataRequired("Vui lòng ghi thời gian thực hiện."), Length(max=5000)],
                             render_kw={"rows": 5})
    assignments = TextAreaField("VI. Tổ chức thực hiện (mỗi dòng một cơ quan, đơn vị)",
                                validators=[DataRequired("Vui lòng ghi phân công thực hiện."), Length(max=5000)],
                                render_kw={"rows": 6})
    signer_mode = RadioField("Thẩm quyền ký", choices=SIGNER_MODES, default="TM")
    signer_name = StringField("Họ tên người ký", validators=[Optional(), Length(max=160)])


class IssueForm(Form):
    issued_on = LocalDateField("Ngày ban hành (dd/mm/yyyy)", validators=[DataRequired("Vui lòng nhập ngày ban hành.")])
    signer_name = StringField("Họ tên người ký", validators=[Optional(), Length(max=160)])
