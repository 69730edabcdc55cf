"""Login: password, TOTP for administrators and officers, rate limit, replay."""

import time

import pyotp
from sqlalchemy import text

from tests.support.helpers import PASSWORD, csrf_from, login, make_commune, make_group, make_user, post_form


def _officer(session, totp=True):
    commune = make_commune(session)
    secret = pyotp.random_base32() if totp else None
    user = make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    return user, secret


def test_five_wrong_passwords_then_429_in_vietnamese(client, session):
    _officer(session)
    for _ in range(5):
        r = post_form(client, "/auth/login", {"username": "tam.vptk", "password": "sai"})
        assert r.status_code == 401
        assert "không đúng" in r.get_data(as_text=True)
    r = post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert r.status_code == 429
    assert "quá nhiều lần" in r.get_data(as_text=True)


class _LimiterClock:
    """The rate limiter's storage clock, moved by the test (no test waits on the wall clock)."""

    def __init__(self):
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


def test_rate_limit_window_passes(app, client, session, monkeypatch):
    """Five failed sign-ins in the window lock the account until the window has passed: one
    second before its end still 429, at its end the right password gets in."""
    import limits.storage.memory

    clock = _LimiterClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    app.config["LOGIN_RATE_LIMIT"] = "5 per 15 minutes"
    _officer(session)
    for _ in range(5):
        post_form(client, "/auth/login", {"username": "tam.vptk", "password": "sai"})
    assert post_form(client, "/auth/login", {"username": "tam.vptk", "password": "sai"}).status_code == 429
    clock.now += 15 * 60 - 60
    assert post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD}).status_code == 429
    clock.now += 61
    r = post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert r.status_code == 302


def test_officer_without_totp_code_reaches_no_staff_page(app, client, session):
    _officer(session)
    r = post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/totp")
    staff_rules = [rule for rule in app.url_map.iter_rules()
                   if hasattr(app.view_functions[rule.endpoint], "staff_roles") and not rule.arguments]
    assert staff_rules, "no staff route found"
    for rule in staff_rules:
        r = client.get(rule.rule)
        assert r.status_code in (302, 401, 403, 405), rule.rule
        if r.status_code == 302:
            assert "/auth/login" in r.headers["Location"], rule.rule


def test_wrong_totp_refused_and_right_one_lets_in(client, session):
    _, secret = _officer(session)
    post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "999999"
    r = post_form(client, "/auth/totp", {"code": wrong})
    assert r.status_code == 401 and "không đúng" in r.get_data(as_text=True)
    assert client.get("/staff").status_code == 302
    r = post_form(client, "/auth/totp", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302
    assert client.get("/staff").status_code == 200


def test_replayed_totp_code_refused(app, session):
    _, secret = _officer(session)
    code = pyotp.TOTP(secret).now()
    first = app.test_client()
    post_form(first, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert post_form(first, "/auth/totp", {"code": code}).status_code == 302
    second = app.test_client()
    post_form(second, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    r = post_form(second, "/auth/totp", {"code": code})
    assert r.status_code == 401
    assert second.get("/staff").status_code == 302


def test_officer_without_totp_must_enrol_by_qr_before_anything(client, session):
    _officer(session, totp=False)
    r = post_form(client, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert r.headers["Location"].endswith("/auth/enrol")
    page = client.get("/auth/enrol").get_data(as_text=True)
    assert "<svg" in page
    assert client.get("/staff").status_code == 302
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    r = client.post("/auth/enrol", data={"csrf_token": csrf_from(page), "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/recovery-codes")
    codes_page = client.get("/auth/recovery-codes").get_data(as_text=True)
    assert codes_page.count("<li><code>") == 10
    assert client.get("/staff").status_code == 200
    assert session.execute(text("SELECT totp_enabled FROM user_account")).scalar()


def test_recovery_code_logs_in_once(app, session):
    user, secret = _officer(session)
    from consult.auth.service import regenerate_recovery_codes

    codes = regenerate_recovery_codes(session, user)
    session.commit()
    c1 = app.test_client()
    post_form(c1, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert post_form(c1, "/auth/totp", {"code": codes[3]}).status_code == 302
    c2 = app.test_client()
    post_form(c2, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert post_form(c2, "/auth/totp", {"code": codes[3]}).status_code == 401


def test_group_head_logs_in_with_password_only(client, session):
    commune = make_commune(session)
    from tests.support.helpers import make_group

    make_user(session, "truong.kp1", "group_head", commune, group=make_group(session, commune))
    session.commit()
    login(client, "truong.kp1")
    assert client.get("/staff").status_code == 200


def test_login_redirect_target_must_be_local(client, session):
    _officer(session, totp=False)
    commune_user_page = client.get("/auth/login?next=https://evil.example/")
    assert commune_user_page.status_code == 200
    from consult.security import is_safe_redirect

    assert not is_safe_redirect("https://evil.example/")
    assert not is_safe_redirect("//evil.example/")
    assert not is_safe_redirect("/\\evil.example")
    assert is_safe_redirect("/admin/communes")


def test_forms_without_csrf_token_are_refused(client, session):
    _officer(session)
    r = client.post("/auth/login", data={"username": "tam.vptk", "password": PASSWORD})
    assert r.status_code == 400
    assert "biểu mẫu không hợp lệ" in r.get_data(as_text=True)


def test_logout_ends_the_session(client, session):
    _, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get("/staff").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_from(page)})
    assert client.get("/staff").status_code == 302


def test_a_guesser_on_the_same_address_does_not_lock_the_owner_out(app, session):
    """Rate limits count failures per account, and a browser that signed in to the account
    before (a device cookie) is counted on its own: a guesser behind the same address, at
    the account's limit, locks new browsers out of that account but not its owner's."""
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "5 per 15 minutes", "50 per 15 minutes"
    _, secret = _officer(session)
    owner = app.test_client()
    login(owner, "tam.vptk", totp_secret=secret)
    assert owner.get_cookie("consult_device", path="/auth/") is not None
    post_form(owner, "/auth/logout", {}, get_url="/auth/account")
    guesser = app.test_client()
    for _ in range(5):
        assert post_form(guesser, "/auth/login", {"username": "tam.vptk", "password": "sai"}).status_code == 401
    assert post_form(guesser, "/auth/login", {"username": "tam.vptk", "password": PASSWORD}).status_code == 429
    newcomer = app.test_client()
    assert post_form(newcomer, "/auth/login", {"username": "Tam.VPTK", "password": PASSWORD}).status_code == 429
    r = post_form(owner, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/totp")
    # the owner's own failures count for the owner's browser alone
    for _ in range(5):
        assert post_form(owner, "/auth/login", {"username": "tam.vptk", "password": "sai"}).status_code == 401
    assert post_form(owner, "/auth/login", {"username": "tam.vptk", "password": PASSWORD}).status_code == 429


def test_one_address_over_its_limit_does_not_lock_out_accounts_used_there_before(app, session):
    """Many people share one address (a commune's Wi-Fi, a mobile NAT): wrong passwords for many
    accounts from it reach the address's limit; a browser new to an account is then refused, a
    browser that signed in to its account before is not, and a forged device cookie counts for nothing."""
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "5 per 15 minutes", "8 per 15 minutes"
    commune = make_commune(session)
    make_user(session, "head.kp2", "group_head", commune, group=make_group(session, commune))
    session.commit()
    head = app.test_client()
    login(head, "head.kp2")
    post_form(head, "/auth/logout", {}, get_url="/auth/account")
    sprayer = app.test_client()
    for i in range(8):
        assert post_form(sprayer, "/auth/login", {"username": f"user{i}", "password": "sai"}).status_code == 401
    assert post_form(sprayer, "/auth/login", {"username": "head.kp2", "password": PASSWORD}).status_code == 429
    forged = app.test_client()
    forged.set_cookie("consult_device", head.get_cookie("consult_device", path="/auth/").value[:-2] + "xx",
                      path="/auth/")
    assert post_form(forged, "/auth/login", {"username": "head.kp2", "password": PASSWORD}).status_code == 429
    other_account = app.test_client()
    other_account.set_cookie("consult_device", head.get_cookie("consult_device", path="/auth/").value, path="/auth/")
    assert post_form(other_account, "/auth/login", {"username": "user1", "password": "sai"}).status_code == 429
    r = post_form(head, "/auth/login", {"username": "head.kp2", "password": PASSWORD})
    assert r.status_code == 302 and "/auth/" not in r.headers["Location"]
