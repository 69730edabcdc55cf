from wtforms import StringField
from wtforms.validators import Length

from consult.fields import Form


class NotifyForm(Form):
    # Checked by mail.service.subscribe_results (beside this field, in Vietnamese).
    email = StringField("Địa chỉ thư điện tử", validators=[Length(max=200, message="Địa chỉ dài quá 200 ký tự.")])


class SubscriptionForm(Form):
    """Confirm or stop (the button's ``action``); only the CSRF token is checked."""
