"""Administration of the commune's structure, with clear messages on bad input."""

import pyotp
from sqlalchemy import text

from tests.support.helpers import login, make_commune, make_group, make_user, post_form


def _admin(session, platform=False):
    commune = None if platform else make_commune(session)
    secret = pyotp.random_base32()
    make_user(session, "quan.tri", "admin", commune, totp=secret)
    session.commit()
    return commune, secret


def test_platform_admin_adds_a_commune(client, session):
    _, secret = _admin(session, platform=True)
    login(client, "quan.tri", totp_secret=secret)
    r = post_form(client, "/admin/communes/new", {"kind": "xa", "name": "Mường Kim", "province": "Lai Châu"})
    assert r.status_code == 302
    assert session.execute(text("SELECT slug FROM commune")).scalar() == "xa-muong-kim"
    assert "Xã Mường Kim" in client.get("/admin/communes").get_data(as_text=True)


def test_commune_admin_cannot_add_communes(client, session):
    _, secret = _admin(session)
    login(client, "quan.tri", totp_secret=secret)
    assert client.get("/admin/communes/new").status_code == 403


def test_group_units_and_staff_are_added_and_listed(client, session):
    commune, secret = _admin(session)
    login(client, "quan.tri", totp_secret=secret)
    base = f"/admin/communes/{commune.id}"
    assert post_form(client, f"{base}/groups/new", {"kind": "khu_pho", "name": "Khu phố 3", "position": "3"}).status_code == 302
    gid = session.execute(text("SELECT id FROM residential_group")).scalar()
    assert post_form(client, f"{base}/units/new", {"kind": "ban_dieu_hanh", "name": "Ban điều hành khu phố 3",
                                                   "group_id": str(gid), "email": ""}).status_code == 302
    r = post_form(client, f"{base}/users/new", {"username": "truong.kp3", "full_name": "Võ Văn Ba",
                                                "role": "group_head", "group_id": str(gid), "unit_id": "0",
                                                "password": "mat-khau-dai-du"})
    assert r.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Khu phố 3" in page and "Ban điều hành khu phố 3" in page and "truong.kp3" in page


def test_duplicate_group_name_refused_in_vietnamese_and_nothing_saved(client, session):
    commune, secret = _admin(session)
    make_group(session, commune, name="Khu phố 1")
    session.commit()
    login(client, "quan.tri", totp_secret=secret)
    before = session.execute(text("SELECT count(*) FROM audit_entry")).scalar()
    r = post_form(client, f"/admin/communes/{commune.id}/groups/new", {"kind": "khu_pho", "name": "khu phố 1"})
    assert r.status_code == 200 and "Đã có khu dân cư tên" in r.get_data(as_text=True)
    assert session.execute(text("SELECT count(*) FROM residential_group")).scalar() == 1
    # Only the login itself was audited.
    assert session.execute(text("SELECT count(*) FROM audit_entry")).scalar() == before


def test_group_head_without_group_refused(client, session):
    commune, secret = _admin(session)
    login(client, "quan.tri", totp_secret=secret)
    r = post_form(client, f"/admin/communes/{commune.id}/users/new", {
        "username": "truong.x", "full_name": "A", "role": "group_head", "group_id": "0", "unit_id": "0",
        "password": "mat-khau-dai-du"})
    assert "phải gắn với một khu phố" in r.get_data(as_text=True)
    assert session.execute(text("SELECT count(*) FROM user_account")).scalar() == 1


def test_deactivating_an_account_ends_its_sessions(app, client, session):
    commune, secret = _admin(session)
    other = make_user(session, "truong.kp1", "group_head", commune, group=make_group(session, commune))
    session.commit()
    head_client = app.test_client()
    login(head_client, "truong.kp1")
    assert head_client.get("/staff").status_code == 200
    login(client, "quan.tri", totp_secret=secret)
    assert post_form(client, f"/admin/users/{other.id}/edit", {}).status_code == 302  # active unticked
    assert head_client.get("/staff").status_code == 302


def test_group_head_gets_403_on_admin_pages(client, session):
    commune = make_commune(session)
    make_user(session, "truong.kp1", "group_head", commune, group=make_group(session, commune))
    session.commit()
    login(client, "truong.kp1")
    assert client.get("/admin/communes").status_code == 403
    assert client.get(f"/admin/communes/{commune.id}").status_code == 403


def test_audit_page_lists_changes(client, session):
    commune, secret = _admin(session)
    make_group(session, commune, name="Khu phố 7")
    session.commit()
    login(client, "quan.tri", totp_secret=secret)
    page = client.get(f"/admin/communes/{commune.id}/audit").get_data(as_text=True)
    assert "group.create" in page and "user.login" in page
