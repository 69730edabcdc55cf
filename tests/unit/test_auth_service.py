"""Passwords (Argon2id), TOTP with replay protection, one-time recovery codes."""

from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from consult.audit.service import SYSTEM
from consult.auth import service
from tests.support.helpers import PASSWORD, make_commune, make_group, make_user

T0 = datetime(2025, 1, 5, 8, 0, 0, tzinfo=timezone.utc)


def test_password_is_stored_as_argon2id_and_checked(session):
    commune = make_commune(session)
    user = make_user(session, "tam.vptk", "officer", commune)
    assert user.password_hash.startswith("$argon2id$")
    assert service.authenticate(session, "tam.vptk", PASSWORD) is user
    assert service.authenticate(session, "tam.vptk", "sai mật khẩu") is None
    assert service.authenticate(session, "không.có", PASSWORD) is None


def test_deactivated_account_cannot_log_in(session):
    commune = make_commune(session)
    user = make_user(session, "tam.vptk", "officer", commune)
    service.set_active(session, SYSTEM, user, False)
    assert service.authenticate(session, "tam.vptk", PASSWORD) is None


def test_totp_code_accepted_once_and_replay_refused(session):
    commune = make_commune(session)
    user = make_user(session, "tam.vptk", "officer", commune, totp=pyotp.random_base32())
    code = pyotp.TOTP(user.totp_secret).at(T0)
    assert service.verify_totp(user, code, now=T0)
    assert not service.verify_totp(user, code, now=T0 + timedelta(seconds=5))
    # An older code, still inside the clock-drift window, is a replay too.
    older = pyotp.TOTP(user.totp_secret).at(T0 - timedelta(seconds=30))
    assert not service.verify_totp(user, older, now=T0 + timedelta(seconds=5))
    later = pyotp.TOTP(user.totp_secret).at(T0 + timedelta(seconds=30))
    assert service.verify_totp(user, later, now=T0 + timedelta(seconds=30))


def test_wrong_or_malformed_totp_refused(session):
    commune = make_commune(session)
    user = make_user(session, "tam.vptk", "officer", commune, totp=pyotp.random_base32())
    assert not service.verify_totp(user, "000000" if pyotp.TOTP(user.totp_secret).at(T0) != "000000" else "111111", now=T0)
    assert not service.verify_totp(user, "abc", now=T0)
    assert not service.verify_totp(user, "", now=T0)


def test_enrolment_needs_a_valid_code_and_gives_one_time_recovery_codes(session):
    commune = make_commune(session)
    user = make_user(session, "tam.vptk", "officer", commune)
    secret = service.start_totp_enrolment(user)
    with pytest.raises(service.AccountError):
        service.confirm_totp_enrolment(session, SYSTEM, user, "123", now=T0)
    assert not user.totp_enabled
    codes = service.confirm_totp_enrolment(session, SYSTEM, user, pyotp.TOTP(secret).at(T0), now=T0)
    assert user.totp_enabled and len(codes) == 10 and len(set(codes)) == 10
    assert service.use_recovery_code(session, user, codes[0], now=T0)
    assert not service.use_recovery_code(session, user, codes[0], now=T0)
    assert service.remaining_recovery_codes(session, user) == 9


def test_account_rules_give_vietnamese_messages_and_save_nothing(session):
    commune = make_commune(session)
    make_group(session, commune)
    session.commit()
    with pytest.raises(service.AccountError, match="ít nhất"):
        make_user_raw(session, commune, password="ngắn")
    with pytest.raises(service.AccountError, match="khu phố"):
        service.create_user(session, SYSTEM, username="truong.kp", full_name="A", role="group_head",
                            password=PASSWORD, commune_id=commune.id)
    session.rollback()
    from sqlalchemy import text

    assert session.execute(text("SELECT count(*) FROM user_account")).scalar() == 0


def make_user_raw(session, commune, password):
    return service.create_user(session, SYSTEM, username="abc.def", full_name="A", role="officer",
                               password=password, commune_id=commune.id)
