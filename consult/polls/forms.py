from wtforms import BooleanField, FieldList, FormField, IntegerField, PasswordField, RadioField, SelectField, \
    SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from consult.fields import Form, LocalDateField, LocalDateTimeField
from consult.polls.models import DAY_KINDS, FORMS, MATTER_KINDS


def _account_id(value) -> int:
    """A chosen account's id; 0 for none (or anything that is not an id)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class MemberRow(Form):
    class Meta:
        csrf = False

    name = StringField("Họ tên", validators=[Optional(), Length(max=160)])
    role = StringField("Vai trò", validators=[Optional(), Length(max=160)])
    is_leader = BooleanField("Tổ trưởng")
    # The member's own staff account (choices: the commune's active accounts, set by the view);
    # the service checks the choice, in Vietnamese.
    user_id = SelectField("Tài khoản nhận phiếu giữ khóa (biểu quyết trực tuyến)", coerce=_account_id,
                          default=0, validate_choice=False)


class PollForm(Form):
    title = StringField("Tên cuộc biểu quyết", validators=[DataRequired("Vui lòng nhập tên."), Length(max=300)])
    question = TextAreaField("Nội dung biểu quyết (câu hỏi)", validators=[DataRequired("Vui lòng nhập nội dung."),
                                                                        Length(max=4000)])
    # id: "content" is the page's <main>.
    content = TextAreaField("Thông tin kèm theo (nếu có)", validators=[Optional(), Length(max=20000)],
                            id="poll-content")
    matter_kind = SelectField("Loại việc (Điều 15 Luật Thực hiện dân chủ ở cơ sở)", choices=list(MATTER_KINDS.items()))
    form_kind = RadioField("Hình thức (chỉ một hình thức cho mỗi cuộc biểu quyết)", choices=list(FORMS.items()),
                           default="meeting")
    group_ids = SelectMultipleField("Khu dân cư", coerce=int, widget=widgets.ListWidget(prefix_label=False),
                                    option_widget=widgets.CheckboxInput())
    options = TextAreaField("Các phương án, hoặc các ứng cử viên khi bầu cử (mỗi dòng một; để trống: Đồng ý / Không đồng ý / Ý kiến khác)",
                            validators=[Optional(), Length(max=4000)])
    seats = IntegerField("Số người cần bầu (bầu cử, khoản 4, 5)", default=1,
                         validators=[Optional(), NumberRange(min=1, max=50, message="Số người cần bầu từ 1 đến 50.")])
    opens_at = LocalDateTimeField("Bắt đầu (HH:MM dd/mm/yyyy)", validators=[DataRequired("Vui lòng nhập thời điểm.")])
    closes_at = LocalDateTimeField("Kết thúc (HH:MM dd/mm/yyyy)", validators=[DataRequired("Vui lòng nhập thời điểm.")])
    announced_on = LocalDateField("Ngày thông báo cuộc họp cho các hộ gia đình (họp: ít nhất 3 ngày trước ngày họp)",
                                  validators=[Optional()])
    place = StringField("Địa điểm họp", validators=[Optional(), Length(max=200, message="Địa điểm dài quá 200 ký tự.")])
    chair = StringField("Người chủ trì cuộc họp (họ tên, chức danh)",
                        validators=[Optional(), Length(max=160, message="Tên người chủ trì dài quá 160 ký tự.")])
    chosen_by_chairman = BooleanField("Chủ tịch UBND cấp xã quyết định phát phiếu (nội dung trên địa bàn xã)")
    chosen_by_head_and_front = BooleanField("Trưởng khu dân cư và Ban công tác Mặt trận quyết định phát phiếu (khoản 6)")
    agreed_unnecessary_on = LocalDateField("Ngày Trưởng khu dân cư và BCTMT thống nhất không cần họp, phát phiếu",
                                           validators=[Optional()])
    reported_on = LocalDateField("Ngày báo cáo UBND và Ủy ban MTTQ cấp xã", validators=[Optional()])
    devices_confirmed = BooleanField("Các hộ có thiết bị để biểu quyết trực tuyến")
    committee = FieldList(FormField(MemberRow), min_entries=5, max_entries=5)


class SharePickupForm(Form):
    password = PasswordField("Mật khẩu của bạn", validators=[DataRequired("Vui lòng nhập mật khẩu.")])


class SlipForm(Form):
    code = StringField("Mã phiếu (in dưới mã QR)", validators=[Optional(), Length(max=20)])


class CheckInForm(Form):
    code = StringField("Mã phiếu hoặc quét mã QR", validators=[Optional(), Length(max=20)])
    household_id = IntegerField("Hộ", validators=[Optional()])
    cluster = StringField("Cụm dân cư (nếu họp theo cụm)", validators=[Optional(), Length(max=80)])


class PaperCountForm(Form):
    """Biên bản kiểm phiếu (NĐ 59 Mẫu 02): the totals of one group's box."""

    group_id = SelectField("Khu dân cư", coerce=int)
    issued = IntegerField("Số phiếu phát ra", validators=[InputRequired("Vui lòng nhập số phiếu phát ra."),
                                                          NumberRange(min=0, max=1_000_000)])
    returned = IntegerField("Số phiếu thu về", validators=[InputRequired("Vui lòng nhập số phiếu thu về."),
                                                           NumberRange(min=0, max=1_000_000)])
    valid = IntegerField("Số phiếu hợp lệ", validators=[InputRequired("Vui lòng nhập số phiếu hợp lệ."),
                                                        NumberRange(min=0, max=1_000_000)])
    invalid = IntegerField("Số phiếu không hợp lệ", validators=[InputRequired("Vui lòng nhập số phiếu không hợp lệ."),
                                                                NumberRange(min=0, max=1_000_000)])
    other_texts = TextAreaField("Ý kiến khác ghi trên phiếu (mỗi dòng một ý kiến)",
                                validators=[Optional(), Length(max=100_000)])
    place = StringField("Địa điểm kiểm phiếu", validators=[Optional(), Length(max=255)])
    counters = TextAreaField("Thành viên Tổ phát phiếu kiểm phiếu (mỗi dòng một người)",
                             validators=[DataRequired("Hãy ghi họ tên người kiểm phiếu."), Length(max=2000)])
    witnesses = TextAreaField("Hai đại diện hộ gia đình chứng kiến (mỗi dòng một người)",
                              validators=[DataRequired("Hãy ghi họ tên người chứng kiến."), Length(max=2000)])


class LocalDayForm(Form):
    day = LocalDateField("Ngày (dd/mm/yyyy)", validators=[DataRequired("Vui lòng nhập ngày.")])
    kind = SelectField("Loại ngày", choices=list(DAY_KINDS.items()))
    name = StringField("Tên, lý do", validators=[DataRequired("Vui lòng nhập tên."), Length(max=120)])
