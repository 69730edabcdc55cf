"""A resident told by mail when a draft's results are published (issue #28, optional point).

The address counts only once confirmed from the mail sent to it (a link opened by a mail
scanner confirms nothing: the page asks for a button); one results mail goes to each confirmed
address when the officer publishes, and every address of the draft is then deleted. Staff see
the addresses masked."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consult.mail import service as mail
from consult.mail.models import OutgoingMail, ResultSubscription
from consult.reports.models import OpinionCluster
from tests.support.helpers import login, make_commune, make_consultation, post_form
from tests.web.test_reports_views import _setup


def _mails(session, topic):
    session.rollback()  # a fresh snapshot: what the pages wrote
    return list(session.scalars(select(OutgoingMail).where(OutgoingMail.topic == topic).order_by(OutgoingMail.id)))


def _count(session, model):
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def _subscribe(client, commune, c, email):
    url = f"/c/{commune.slug}/consultations/{c.id}/notify"
    return post_form(client, url, {"email": email})


def _link(mail_row) -> str:
    return re.search(r"http://[^\s]+/notify/[\w-]+", mail_row.body).group(0).removeprefix("http://localhost")


def test_a_resident_is_told_once_when_the_results_are_published(app, client, session):
    app.config["JOBS_IN_PROCESS"] = False
    commune, c, secret = _setup(session, closed=True)
    resident = app.test_client()
    public = resident.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)
    assert f"/c/{commune.slug}/consultations/{c.id}/notify" in public
    r = _subscribe(resident, commune, c, "  An.Nguyen@Gmail.com ")
    assert r.status_code == 302
    [confirm] = _mails(session, "confirm")
    assert confirm.to_address == "an.nguyen@gmail.com" and c.title in confirm.body
    link = _link(confirm)
    # Another address, never confirmed; and the first asked again: no second mail within a day.
    assert _subscribe(app.test_client(), commune, c, "ai.do@example.vn").status_code == 302
    again = _subscribe(app.test_client(), commune, c, "an.nguyen@gmail.com")
    assert again.status_code == 302 and len(_mails(session, "confirm")) == 2
    # The mail's link: opened (as a mail scanner would), it confirms nothing; the button does.
    page = resident.get(link)
    assert page.status_code == 200 and "Xác nhận" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert session.scalar(select(ResultSubscription.confirmed_at).where(
        ResultSubscription.email == "an.nguyen@gmail.com")) is None
    r = post_form(resident, link, {"action": "confirm"})
    assert 'id="subscription-confirmed"' in r.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(ResultSubscription.confirmed_at).where(
        ResultSubscription.email == "an.nguyen@gmail.com")) is not None

    # Staff see the addresses masked.
    login(client, "tam.vptk", totp_secret=secret)
    outbox = client.get(f"/consultations/{c.id}/mail").get_data(as_text=True)
    assert "a•••@gmail.com" in outbox and "an.nguyen@gmail.com" not in outbox

    url = f"/reports/consultations/{c.id}"
    client.get(url)
    session.rollback()
    for cluster in session.scalars(select(OpinionCluster)):
        post_form(client, f"{url}/clusters/{cluster.id}/decide", {"decision": "accepted", "explanation": ""},
                  get_url=url)
    assert post_form(client, f"{url}/publish", {}, get_url=url).status_code == 302
    [news] = _mails(session, "results")
    assert news.to_address == "an.nguyen@gmail.com" and f"/c/{commune.slug}/consultations/{c.id}/report" in news.body
    assert _count(session, ResultSubscription) == 0  # every address of the draft gone, confirmed or not
    gone = resident.get(link)
    assert gone.status_code == 404 and 'id="subscription-gone"' in gone.get_data(as_text=True)
    # Published: the page says where the results are, and takes no address.
    after = app.test_client().get(f"/c/{commune.slug}/consultations/{c.id}/notify").get_data(as_text=True)
    assert f"/c/{commune.slug}/consultations/{c.id}/report" in after and 'name="email"' not in after
    with pytest.raises(mail.MailError, match="Kết quả đã được công khai"):
        mail.subscribe_results(session, session.get(type(c), c.id), "moi@example.vn", confirm_url=str)


def test_a_resident_stops_from_the_link_and_gets_nothing(app, client, session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [])
    session.commit()
    assert _subscribe(client, commune, c, "binh@example.vn").status_code == 302
    link = _link(_mails(session, "confirm")[0])
    post_form(client, link, {"action": "confirm"})
    r = post_form(client, link, {"action": "stop"})
    assert 'id="subscription-stopped"' in r.get_data(as_text=True) and _count(session, ResultSubscription) == 0
    assert client.get(link).status_code == 404


def test_a_link_of_another_commune_or_a_made_up_token_finds_nothing(client, session):
    commune = make_commune(session)
    other = make_commune(session, name="Tân Hòa")
    c = make_consultation(session, commune, [])
    session.commit()
    _subscribe(client, commune, c, "lan@example.vn")
    link = _link(_mails(session, "confirm")[0])
    assert client.get(link.replace(f"/c/{commune.slug}/", f"/c/{other.slug}/")).status_code == 404
    assert client.get(f"/c/{commune.slug}/notify/{'A' * 32}").status_code == 404
    assert client.get(f"/c/{commune.slug}/notify/{'A' * 300}").status_code == 404


def test_bad_addresses_are_refused_beside_the_field_and_nothing_is_kept(client, session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [])
    session.commit()
    for email, message in (("", "Vui lòng nhập địa chỉ thư điện tử."),
                           ("không phải địa chỉ", "Địa chỉ thư điện tử không đúng"),
                           ("an@localhost", "Địa chỉ thư điện tử không đúng"),
                           ("nguyễn.an@gmail.com", "Địa chỉ thư điện tử không đúng"),
                           (".an@gmail.com", "Địa chỉ thư điện tử không đúng"),
                           ("a" * 190 + "@example.vn", "dài quá 200 ký tự")):
        r = _subscribe(client, commune, c, email)
        page = r.get_data(as_text=True)
        assert r.status_code == 422 and message in page and 'id="email-error"' in page, email
    assert _count(session, ResultSubscription) == 0 and _count(session, OutgoingMail) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.one_of(st.text(max_size=80), st.emails().map(str),
                       st.text(alphabet=string.ascii_letters + "@.-_ \"<>,;", max_size=40)))
def test_fuzz_any_address_is_kept_as_a_valid_one_or_refused_with_a_message(session, email):
    from consult.consultations.models import Consultation

    c = session.scalar(select(Consultation))
    if c is None:
        c = make_consultation(session, make_commune(session), [])
        session.commit()
    try:
        mail.subscribe_results(session, c, email, confirm_url=lambda token: f"http://x/notify/{token}")
    except mail.MailError as refused:
        assert refused.field == "email" and str(refused)
        assert session.scalar(select(func.count()).select_from(ResultSubscription)) == 0
    else:
        kept = session.scalar(select(ResultSubscription).where(ResultSubscription.email == email.strip().lower()))
        assert kept is not None and "@" in kept.email and len(kept.email) <= 200 and kept.email.isascii()
        assert kept.email.isprintable() and " " not in kept.email
        assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 1
    finally:
        session.rollback()  # each address on a draft with none yet
