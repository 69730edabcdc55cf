from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from consult.auth.models import ROLES
from consult.communes.models import COMMUNE_KINDS, GROUP_KINDS, UNIT_KINDS
from consult.fields import Form


class CommuneForm(Form):
    kind = SelectField("Loại", choices=list(COMMUNE_KINDS.items()))
    name = StringField("Tên", validators=[DataRequired("Vui lòng nhập tên."), Length(max=120)])
    province = StringField("Tỉnh, thành phố", validators=[DataRequired("Vui lòng nhập tỉnh."), Length(max=120)])
    slug = StringField("Mã đường dẫn (không dấu)", validators=[Optional(), Length(max=60)])


class GroupForm(Form):
    kind = SelectField("Loại", choices=list(GROUP_KINDS.items()))
    name = StringField("Tên", validators=[DataRequired("Vui lòng nhập tên."), Length(max=120)])
    position = IntegerField("Thứ tự", default=0, validators=[Optional()])
    head_email = StringField("Thư điện tử của Trưởng khu phố, thôn (nhận thư nhắc hạn gửi kết quả biểu quyết)",
                             validators=[Optional(), Length(max=200)])


class UnitForm(Form):
    kind = SelectField("Loại", choices=list(UNIT_KINDS.items()))
    name = StringField("Tên đơn vị", validators=[DataRequired("Vui lòng nhập tên đơn vị."), Length(max=200)])
    group_id = SelectField("Thuộc khu dân cư", coerce=int, default=0)
    email = StringField("Thư điện tử", validators=[Optional(), Length(max=200)])


class UserForm(Form):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Vui lòng nhập tên đăng nhập.")])
    full_name = StringField("Họ và tên", validators=[DataRequired("Vui lòng nhập họ tên."), Length(max=160)])
    role = SelectField("Vai trò", choices=list(ROLES.items()))
    group_id = SelectField("Khu phố, thôn (cho Trưởng khu phố)", coerce=int, default=0)
    unit_id = SelectField("Đơn vị (cho đại diện đơn vị)", coerce=int, default=0)
    password = PasswordField("Mật khẩu ban đầu", validators=[DataRequired("Vui lòng nhập mật khẩu.")])


class UserEditForm(Form):
    active = BooleanField("Đang hoạt động")
    new_password = PasswordField("Đặt mật khẩu mới (để trống nếu không đổi)", validators=[Optional()])
    reset_totp = BooleanField("Xóa xác thực hai lớp (người dùng phải đăng ký lại)")
