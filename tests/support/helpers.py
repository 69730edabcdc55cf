"""Story-like helpers for tests: factories as plain functions, form posting with CSRF."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp

from consult.audit.service import SYSTEM
from consult.auth import service as auth_service
from consult.communes import service as communes

PASSWORD = "mật-khẩu-thử-nghiệm"

_REPO = Path(__file__).resolve().parents[2]
# The real documents beside the checkout; the package's own copies where the
# checkout stands alone.
SEEDS = _REPO.parent / "shared" / "seeds"
if not SEEDS.is_dir():
    SEEDS = _REPO / "consult" / "seeds"

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client, url: str, data: dict, *, get_url: str | None = None, **kwargs):
    """GET the form page, then POST with its CSRF token, as a browser would."""
    page = client.get(get_url or url)
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    return client.post(url, data=payload, **kwargs)


def make_commune(session, name="Bình An", slug=None, province="Bình Dương", kind="phuong"):
    return communes.save_commune(session, SYSTEM, None, kind=kind, name=name, province=province, slug=slug)


def make_group(session, commune, name="Khu phố 1", kind="khu_pho", position=0):
    return communes.save_group(session, SYSTEM, commune, None, kind=kind, name=name, position=position)


def make_unit(session, commune, name, kind="doan_the", group=None):
    return communes.save_unit(session, SYSTEM, commune, None, kind=kind, name=name,
                              group_id=group.id if group else None)


def make_user(session, username, role, commune=None, *, group=None, unit=None, totp=None, full_name=None):
    user = auth_service.create_user(
        session, SYSTEM, username=username, full_name=full_name or username.title(), role=role,
        password=PASSWORD, commune_id=commune.id if commune else None,
        group_id=group.id if group else None, unit_id=unit.id if unit else None)
    if totp:
        user.totp_secret, user.totp_enabled = totp, True
    return user


def login(client, username, *, totp_secret=None, step_offset=0):
    """Password, then TOTP when the account has it. Returns the last response."""
    response = post_form(client, "/auth/login", {"username": username, "password": PASSWORD},
                         follow_redirects=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if totp_secret:
        import time

        totp = pyotp.TOTP(totp_secret)
        code = totp.at(time.time() + 30 * step_offset)
        response = post_form(client, "/auth/totp", {"code": code}, follow_redirects=False)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


SMALL_DRAFT = """DỰ THẢO NGHỊ QUYẾT
QUYẾT NGHỊ:
Điều 1. Phạm vi
1. Khoản một.
a) Điểm a.
b) Điểm b.
2. Khoản hai.
Điều 2. Tổ chức thực hiện
Giao Ủy ban nhân dân tổ chức thực hiện./.
Nơi nhận:
- Lưu: VT.
"""


def make_consultation(session, commune, units, *, text=SMALL_DRAFT, now=None, days=21, publish=True,
                      residents=True, title="Lấy ý kiến dự thảo Nghị quyết về dân chủ ở cơ sở"):
    """A consultation opened at ``now`` (default: an hour ago) for ``days`` days."""
    from datetime import timedelta

    from consult.consultations import service
    from consult.timeutil import utcnow

    now = now or utcnow() - timedelta(hours=1)
    facts = service.ConsultationFacts(
        title=title, doc_kind="nghi_quyet", issuing_body=f"Ủy ban nhân dân {commune.full_name}",
        officer_name="Lê Thị Tâm", opens_at=now, closes_at=now + timedelta(days=days), letter_number="491/UBND",
        residents_may_comment=residents)
    consultation = service.create_consultation(session, SYSTEM, commune, facts, service.read_draft(text=text),
                                               [u.id for u in units], now=now)
    if publish:
        service.publish(session, SYSTEM, consultation, now=now)
    return consultation


def browser_login(page, base_url: str, username: str, totp_secret: str | None = None) -> None:
    """Log in through the real pages, as an officer would on their computer."""
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    if totp_secret:
        page.get_by_label("Mã xác thực").fill(pyotp.TOTP(totp_secret).now())
        page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/staff")


def fits_its_columns(row) -> None:
    """What SQLite stores PostgreSQL may refuse: a text longer than its column, or a NUL."""
    from sqlalchemy import String

    for column in type(row).__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, str):
            assert "\x00" not in value, column.key
            if isinstance(column.type, String) and column.type.length:
                assert len(value) <= column.type.length, (column.key, len(value))


def choose_part(select, label: str) -> None:
    """Pick a part in a "Góp ý cho" list, whose options read "Điều 2 — the start of its words"."""
    values = select.evaluate(
        "(s, label) => [...s.options].filter(o => o.text.trim() === label || o.text.trim().startsWith(label + ' — '))"
        ".map(o => o.value)", label)
    assert len(values) == 1, (label, values)
    select.select_option(value=values[0])


def run_jobs(app) -> int:
    """Run the queued background jobs as the worker would; the number run."""
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_pending

    with app.app_context():
        return run_pending(app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"],
                           results=ResultStore.of_app(app))


def preview_pdf(client, app, url: str) -> bytes:
    """A document's PDF preview as an officer gets it: the page queues the conversion and waits
    (202, with the link that opens the PDF); the worker converts; the link then sends the PDF."""
    waiting = client.get(url)
    assert waiting.status_code == 202, (waiting.status_code, waiting.get_data(as_text=True)[:500])
    assert f'id="preview-open" href="{url.split("?")[0]}"' in waiting.get_data(as_text=True)
    assert run_jobs(app) >= 1
    made = client.get(url)
    assert made.status_code == 200 and made.mimetype == "application/pdf", made.get_data(as_text=True)[:500]
    return made.data
