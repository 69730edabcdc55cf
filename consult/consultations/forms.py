from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional

from consult.consultations.models import DOC_KINDS
from consult.fields import Form, LocalDateField, LocalDateTimeField

PART_KINDS = [("chapter", "Chương"), ("section", "Mục"), ("article", "Điều"), ("clause", "Khoản"), ("point", "Điểm")]


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ConsultationForm(Form):
    title = StringField("Tên đợt lấy ý kiến", validators=[DataRequired("Vui lòng nhập tên đợt lấy ý kiến."),
                                                         Length(max=500)])
    doc_kind = SelectField("Loại dự thảo", choices=list(DOC_KINDS.items()))
    issuing_body = StringField("Cơ quan chủ trì", validators=[DataRequired("Vui lòng nhập cơ quan chủ trì."),
                                                            Length(max=200)])
    letter_number = StringField("Số công văn", validators=[Optional(), Length(max=60)],
                                render_kw={"placeholder": "491/UBND"})
    letter_date = LocalDateField("Ngày công văn (dd/mm/yyyy)", validators=[Optional()])
    officer_name = StringField("Cán bộ phụ trách", validators=[DataRequired("Vui lòng nhập cán bộ phụ trách."),
                                                              Length(max=160)])
    officer_contact = StringField("Liên hệ (điện thoại, thư điện tử)", validators=[Optional(), Length(max=200)])
    opens_at = LocalDateTimeField("Bắt đầu (HH:MM dd/mm/yyyy, giờ Việt Nam)",
                                  validators=[DataRequired("Vui lòng nhập thời điểm bắt đầu.")])
    closes_at = LocalDateTimeField("Hạn cuối gửi ý kiến (HH:MM dd/mm/yyyy)",
                                   validators=[DataRequired("Vui lòng nhập hạn cuối gửi ý kiến.")])
    short_period_basis = TextAreaField("Căn cứ pháp lý nếu thời gian ngắn hơn 20 ngày (30 ngày với hương ước)",
                                       validators=[Optional(), Length(max=2000)])
    residents_may_comment = BooleanField("Người dân được góp ý trực tuyến", default=True)
    units = MultiCheckboxField("Đơn vị được xin ý kiến", coerce=int)


class NewConsultationForm(ConsultationForm):
    draft_text = TextAreaField("Dán nội dung dự thảo (kể cả công văn kèm theo)", render_kw={"rows": 14})
    draft_file = FileField("Hoặc tải lên tệp dự thảo (.docx, .doc, .odt, .pdf, .txt)")


class ExtendForm(Form):
    closes_at = LocalDateTimeField("Hạn mới (HH:MM dd/mm/yyyy)", validators=[DataRequired("Vui lòng nhập hạn mới.")])
    reason = TextAreaField("Lý do gia hạn", validators=[DataRequired("Vui lòng ghi lý do gia hạn."), Length(max=1000)])


class RelabelForm(Form):
    kind = SelectField("Loại", choices=PART_KINDS)
    number = StringField("Số hiệu", validators=[DataRequired("Vui lòng nhập số hiệu."), Length(max=10)])
    title = StringField("Tiêu đề (Chương, Mục, Điều)", validators=[Optional(), Length(max=1000)])


class SplitForm(Form):
    at_text = TextAreaField("Phần mới bắt đầu từ đoạn văn này (chép nguyên văn vài chữ đầu)",
                            validators=[DataRequired("Vui lòng chép đoạn văn bắt đầu phần mới.")])
    kind = SelectField("Loại phần mới", choices=PART_KINDS)
    number = StringField("Số hiệu phần mới", validators=[DataRequired("Vui lòng nhập số hiệu."), Length(max=10)])
    title = StringField("Tiêu đề (nếu có)", validators=[Optional(), Length(max=1000)])


class PartTextForm(Form):
    title = StringField("Tiêu đề (Chương, Mục, Điều)", validators=[Optional(), Length(max=1000)])
    text = TextAreaField("Nội dung", render_kw={"rows": 12})
