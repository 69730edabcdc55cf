from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from consult.fields import Form


class LoginForm(Form):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Vui lòng nhập tên đăng nhập.")])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Vui lòng nhập mật khẩu.")])


class TotpForm(Form):
    code = StringField(
        "Mã xác thực (6 chữ số) hoặc mã khôi phục",
        validators=[DataRequired("Vui lòng nhập mã xác thực."), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )


class EnrolForm(Form):
    code = StringField(
        "Mã 6 chữ số trên ứng dụng",
        validators=[DataRequired("Vui lòng nhập mã xác thực."), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordForm(Form):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired("Vui lòng nhập mật khẩu hiện tại.")])
    new = PasswordField("Mật khẩu mới", validators=[DataRequired("Vui lòng nhập mật khẩu mới.")])
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[EqualTo("new", "Hai lần nhập mật khẩu mới không khớp.")],
    )
