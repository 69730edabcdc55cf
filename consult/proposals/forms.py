"""The proposals' forms. The service checks every value and answers in Vietnamese; the
forms only parse (a choice that is no number reads as none, never as an English error)."""

from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets

from consult.fields import Form
from consult.polls.models import MATTER_KINDS

KIND_CHOICES = [("", "— chọn loại nội dung —")] + list(MATTER_KINDS.items())


def number_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class ProposalForm(Form):
    group_id = SelectField("Khu phố, thôn sẽ quyết định", coerce=number_or_zero, default=0, validate_choice=False)
    matter_kind = SelectField("Loại nội dung (Điều 15 Luật Thực hiện dân chủ ở cơ sở)", choices=KIND_CHOICES,
                              default="", validate_choice=False)
    title = StringField("Tên đề xuất")
    # id: "content" is the page's <main>.
    content = TextAreaField("Nội dung đề xuất, lý do", id="proposal-content", render_kw={"rows": 8})
    name = StringField("Họ và tên người đề xuất", render_kw={"autocomplete": "name"})
    address = StringField("Địa chỉ thường trú", render_kw={"autocomplete": "address-line1"})
    phone = StringField("Số điện thoại (không bắt buộc)", render_kw={"autocomplete": "tel", "inputmode": "tel"})


class SupportForm(Form):
    name = StringField("Họ và tên đại diện hộ gia đình", render_kw={"autocomplete": "name"})
    address = StringField("Địa chỉ thường trú của hộ", render_kw={"autocomplete": "address-line1"})
    household_code = StringField("Mã hộ trong sổ hộ (nếu biết)", render_kw={"autocomplete": "off"})


class OpenForm(Form):
    matter_kind = SelectField("Loại nội dung", choices=list(MATTER_KINDS.items()), validate_choice=False)


class RefuseForm(Form):
    reason = TextAreaField("Lý do không thuộc nội dung cộng đồng dân cư quyết định", render_kw={"rows": 3})


class ConfirmForm(Form):
    household_code = StringField("Mã hộ trong sổ hộ")


class PaperForm(Form):
    household_ids = SelectMultipleField("Các hộ đã ký trong danh sách ủng hộ", coerce=number_or_zero,
                                        validate_choice=False, widget=widgets.ListWidget(prefix_label=False),
                                        option_widget=widgets.CheckboxInput())


class LinkPollForm(Form):
    poll_id = SelectField("Cuộc biểu quyết của khu dân cư", coerce=number_or_zero, validate_choice=False)
    note = TextAreaField("Ghi chú (không bắt buộc)", render_kw={"rows": 2})
