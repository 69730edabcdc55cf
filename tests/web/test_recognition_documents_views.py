"""Downloading the commune's answer and the hương ước's hồ sơ (Luật Điều 21 khoản 2; NĐ 61/2023
Điều 11): the commune's officer gets the quyết định công nhận from the vote's page, the group head
the hồ sơ đề nghị công nhận from the hương ước's page; another commune's officer gets nothing."""

from __future__ import annotations

import io

import pyotp
from docx import Document

from tests.support.helpers import login, make_commune, make_user
from tests.support.covenants import recognised_covenant

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for row in t.rows for c in row.cells)


def test_dieu_21_k2_the_officer_downloads_the_quyet_dinh_cong_nhan_and_no_other_commune_does(client, session):
    covenant, poll = recognised_covenant(session)
    secret, other_secret = pyotp.random_base32(), pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", covenant.commune, totp=secret)
    make_user(session, "truong.kp1", "group_head", covenant.commune, group=covenant.group)
    make_user(session, "lan.vptk", "officer", make_commune(session, name="Tân Phú"), totp=other_secret)
    session.commit()
    decision = f"/polls/{poll.id}/recognition/decision.docx"
    refusal = f"/polls/{poll.id}/recognition/refusal.docx"
    dossier = f"/covenants/{covenant.id}/dossier.docx"

    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert 'id="recognition-decision"' in page and decision in page and refusal not in page
    r = client.get(decision)
    assert r.status_code == 200 and r.mimetype == DOCX
    assert f"quyet-dinh-cong-nhan-bieu-quyet-{poll.id}.docx" in r.headers["Content-Disposition"]
    assert "Số: 15/QĐ-UBND" in _text(r.data) and "Về việc công nhận hương ước khu phố 1" in _text(r.data)
    assert client.get(refusal).status_code == 404  # nothing refused
    page = client.get(f"/covenants/{covenant.id}").get_data(as_text=True)
    assert dossier in page and decision in page
    r = client.get(dossier)
    assert r.status_code == 200 and r.mimetype == DOCX
    assert f"ho-so-de-nghi-cong-nhan-huong-uoc-{covenant.id}.docx" in r.headers["Content-Disposition"]
    client.get("/auth/logout")

    login(client, "truong.kp1")
    assert client.get(decision).status_code == 403  # the commune's document, made by its office
    r = client.get(dossier)
    assert r.status_code == 200 and "TỜ TRÌNH" in _text(r.data)
    client.get("/auth/logout")

    login(client, "lan.vptk", totp_secret=other_secret)
    assert client.get(decision).status_code == 404
    assert client.get(dossier).status_code == 404
