"""The side doors of a vote, each replayed: what an onlooker learns of a household's ballot
without breaking its encryption (issue 22 points 1, 6 and 7).

- the access log names every ballot link (the token leads to the household);
- the size of the answer tells the choice (the review page repeats it);
- a cache keeps a ballot page;
- the slips job leaves the PDF, with every live code, in a column of the database;
- a paper ballot shows where on the page it was printed (slips print in the households' order).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from PIL import Image, ImageChops
from sqlalchemy import MetaData, select

from consult.audit.service import SYSTEM
from consult.jobs.models import Job
from consult.polls import service
from consult.polls.ballots import MAX_OTHER_TEXT
from consult.polls.ballots_pdf import SLIP_H, ballots_pdf
from consult.polls.models import Poll
from tests.support.helpers import login, make_user, post_form
from tests.support.polls import group_with_households, open_vote, pass_consent, poll_input, shares

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2}\b")


def _need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (Debian package poppler-utils)")


def _ballot_post(client, token, step, choice_value, other="", **headers):
    return client.post(f"/b/{token}", data={"step": step, "choice": str(choice_value), "other_text": other},
                       headers=headers)


# --- 1. the access log ------------------------------------------------------------------------

def test_the_gunicorn_access_log_never_names_a_ballot_link(sqlite_template, tmp_path):
    """gunicorn with the repository's gunicorn.conf.py: ballot links, however spelt, and a
    referer naming one, are logged as /b/…; other paths as they are."""
    from tests.web.test_operations import _gunicorn, _serves

    shutil.copyfile(sqlite_template, tmp_path / "g.sqlite3")
    process, port = _gunicorn(tmp_path, 1)
    base = f"http://127.0.0.1:{port}"
    tokens = [f"thebaimat{i}x7Qm2ZpLw9Rv" for i in range(5)]
    try:
        assert _serves(process, port), process.stdout.read() if process.poll() is not None else "no answer"
        requests = [
            urllib.request.Request(f"{base}/b/{tokens[0]}"),
            urllib.request.Request(f"{base}/b/{tokens[1]}?step=review", data=b"step=review&choice=1",
                                   headers={"Referer": f"{base}/b/{tokens[1]}"}),
            urllib.request.Request(f"{base}/%62/{tokens[2]}"),
            urllib.request.Request(f"{base}/auth/login", headers={"Referer": f"{base}/b/{tokens[3]}"}),
            urllib.request.Request(f"{base}//b//{tokens[4]}"),
        ]
        for request in requests:
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as exc:
                exc.read()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    access = [line for line in output.splitlines() if '" ' in line and "HTTP/1." in line]
    assert len(access) >= 5, output
    for token in tokens:
        assert token not in output, f"{token} in the log:\n{output}"
    assert '"GET /b/… HTTP/1.1"' in output and '"POST /b/… HTTP/1.1"' in output
    assert '"GET /auth/login HTTP/1.1"' in output and f'"{base}/b/…"' in output


def test_the_development_server_log_never_names_a_ballot_link(app, live_server, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        try:
            urllib.request.urlopen(f"{live_server}/b/bimatcuaho42Zk8", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        urllib.request.urlopen(f"{live_server}/b/", timeout=10).read()
    assert "bimatcuaho42Zk8" not in caplog.text
    assert "GET /b/… HTTP/1.1" in caplog.text and "GET /b/ HTTP/1.1" in caplog.text


# --- 2. the size of the answer ----------------------------------------------------------------

LONG = ('Ý kiến & <đề nghị> "lắp thêm đèn" ở ngõ 3, đường Nguyễn Trãi; ' * 20)[:MAX_OTHER_TEXT]
WORST = '"' * MAX_OTHER_TEXT


def test_review_and_done_pages_have_one_size_whatever_the_choice_and_the_text(client, session):
    """Choices with labels of different lengths and ids of one and two digits (9, 10), texts of
    0, 1 and 500 characters with & < " and Vietnamese letters: every review page of a vote has
    one length, every done page another, every refused step a third; the consent round too."""
    commune, group = group_with_households(session, 12)
    # Seven choices of another vote first, so that this vote's ids are 8, 9 and 10.
    service.create_poll(session, SYSTEM, commune, poll_input([group], form="ballot", chosen_by_head_and_front=True,
                                                                 options=[f"Phương án {i}" for i in range(7)]))
    poll = open_vote(session, commune, [group])
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    ids = {c.kind: c.id for c in poll.choices}
    assert {len(str(i)) for i in ids.values()} == {1, 2}, ids
    assert len(LONG) == len(LONG.strip()) == MAX_OTHER_TEXT and len(LONG.encode()) > MAX_OTHER_TEXT

    def sizes(responses, status=200):
        assert [r.status_code for r in responses] == [status] * len(responses), \
            [r.get_data(as_text=True)[:300] for r in responses]
        return {len(r.data) for r in responses}

    # The consent round: "Đồng ý biểu quyết trực tuyến" or "Không đồng ý …".
    token = ballots[0].token
    reviews = [_ballot_post(client, token, "review", answer) for answer in ("agree", "disagree")]
    assert len(sizes(reviews)) == 1
    done = [_ballot_post(client, ballots[i].token, "confirm", answer) for i, answer in ((0, "agree"), (1, "disagree"))]
    assert len(sizes(done)) == 1
    for ballot in ballots[2:]:
        service.cast_online(session, ballot.token, "agree")
    service.close_consent(session, SYSTEM, poll, shares=shares(poll))
    session.commit()

    # The vote: each choice, with and without texts.
    steps = [(ids["agree"], ""), (ids["disagree"], ""), (ids["other"], "ệ"), (ids["other"], "&"),
             (ids["other"], LONG), (ids["other"], WORST), (ids["agree"], LONG)]
    reviews = [_ballot_post(client, token, "review", choice_id, text) for choice_id, text in steps]
    assert len(sizes(reviews)) == 1, sizes(reviews)
    shown = reviews[1].get_data(as_text=True)
    assert 'id="chosen">Không đồng ý<' in shown and f'name="choice" value="{ids["disagree"]}"' in shown
    assert "&amp; &lt;đề nghị&gt; &#34;lắp thêm đèn&#34;" in reviews[4].get_data(as_text=True)
    done = [_ballot_post(client, ballot.token, "confirm", choice_id, text)
            for ballot, (choice_id, text) in zip(ballots[:len(steps)], steps)]
    assert len(sizes(done)) == 1, sizes(done)
    refused = [_ballot_post(client, ballots[9].token, step, choice_id, text) for step, choice_id, text in (
        ("review", "", ""), ("review", ids["other"], ""), ("review", ids["other"], "x" * (MAX_OTHER_TEXT + 1)),
        ("review", 999999, ""), ("confirm", ids["other"], " "), ("review", ids["other"], '"' * 2000),
        ("confirm", ids["other"], "ệ" * 600))]
    assert len(sizes(refused, 422)) == 1
    # A text refused as too long comes back on the form with its choice, to be shortened (it was lost).
    again = refused[-1].get_data(as_text=True)
    assert f"dài quá {MAX_OTHER_TEXT} ký tự" in again and ">" + "ệ" * 600 + "</textarea>" in again
    assert f'value="{ids["other"]}" required checked>' in again


# --- 3. caches ----------------------------------------------------------------------------------

def test_every_ballot_answer_says_no_store(app, client, session):
    """Every answer under /b/, errors included, tells browsers and proxies to keep nothing."""
    app.config["TOKEN_RATE_LIMIT"] = "8 per 10 minutes"
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    agree = next(c.id for c in poll.choices if c.kind == "agree")
    token = ballots[0].token
    answers = {
        "code page": client.get("/b/"),
        "no slash": client.get("/b"),
        "typed code": post_form(client, "/b/", {"code": ballots[1].code}),
        "wrong code": post_form(client, "/b/", {"code": "ABCD-EFGH-JK"}),
        "ballot": client.get(f"/b/{token}"),
        "review": _ballot_post(client, token, "review", agree),
        "refused step": _ballot_post(client, token, "review", ""),
        "other site": _ballot_post(client, token, "confirm", agree, **{"Sec-Fetch-Site": "cross-site"}),
        "NUL": client.post(f"/b/{token}", data={"step": "review", "other_text": "a\x00"}),
        "done": _ballot_post(client, token, "confirm", agree),
        "again": _ballot_post(client, token, "confirm", agree),
        "unknown link": client.get("/b/khong-co-that"),
    }
    for i in range(10):
        answers["too many"] = client.get(f"/b/doan-{i}")
    expected = {"code page": 200, "no slash": 308, "typed code": 200, "wrong code": 404, "ballot": 200,
                "review": 200, "refused step": 422, "other site": 403, "NUL": 400, "done": 200, "again": 409,
                "unknown link": 404, "too many": 429}
    assert {name: r.status_code for name, r in answers.items()} == expected
    for name, response in answers.items():
        assert response.headers.get("Cache-Control") == "no-store", name
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


# --- 4. the slips job -----------------------------------------------------------------------------

def _database_values(app):
    """Every value of every row of every table, as bytes, by table.column."""
    engine = app.extensions["consult_engine"]
    metadata = MetaData()
    metadata.reflect(bind=engine)
    values = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in zip(table.columns, row):
                    if value is None:
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        data = bytes(value)
                    elif isinstance(value, (dict, list)):
                        data = json.dumps(value, ensure_ascii=False).encode()
                    else:
                        data = str(value).encode()
                    values.append((f"{table.name}.{column.name}", data))
    return values


def test_a_whole_ward_slips_job_leaves_no_live_code_in_the_database(app, client, session, runner, tmp_path):
    """After the worker prints a whole ward, no row of any table (nor the SQLite file's bytes)
    holds the PDF or a code; the requester downloads the PDF once, with every live code."""
    _need("pdftotext")
    app.config.update(SLIPS_INLINE_MAX=5, JOBS_IN_PROCESS=False)
    commune, group = group_with_households(session, 8)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    login(client, "truong.kp1")
    r = post_form(client, f"/polls/{poll.id}/ballots.pdf", {}, get_url=f"/polls/{poll.id}")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    url = r.headers["Location"]
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    job = session.scalars(select(Job)).one()
    assert job.status == "done"
    pdfs = [where for where, data in _database_values(app) if b"%PDF" in data]
    assert not pdfs, f"a PDF in {pdfs}"
    from consult.jobs.results import ResultStore

    results = ResultStore.of_app(app)
    sealed = results.path(job.id).read_bytes()
    assert b"%PDF" not in sealed

    page = client.get(url).get_data(as_text=True)
    assert 'id="job-download"' in page
    pdf = client.get(url + "/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    (tmp_path / "slips.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "slips.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    codes = sorted(set(CODE.findall(text)))
    assert len(codes) == 8
    session.rollback()
    for code in codes:  # live codes
        assert service.find_token(session, code=code).poll_id == poll.id
    session.rollback()

    needles = [b"%PDF"] + [code.encode() for code in codes] + [code.replace("-", "").encode() for code in codes]
    for where, data in _database_values(app):
        for needle in needles:
            assert needle not in data, f"{needle!r} in {where}"
    url_text = app.config["DATABASE_URL"]
    if url_text.startswith("sqlite:///"):
        path = url_text[len("sqlite:///"):]
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
        for needle in needles:
            assert needle not in raw, f"{needle!r} in the SQLite file"
    for code in codes:
        assert code.encode() not in sealed
    # Downloaded once: gone from the server.
    assert not results.exists(job.id)
    again = client.get(url + "/download")
    assert again.status_code == 410 and "đã bị xóa" in again.get_data(as_text=True)
    assert "đã bị xóa khỏi máy chủ" in client.get(url).get_data(as_text=True)


# --- 5. the place on the page ----------------------------------------------------------------------

DPI = 127  # a slip's 99 mm is then exactly 495 pixels: the slips' images compare pixel for pixel


def test_every_paper_ballot_part_is_the_same_wherever_it_stands_on_the_page(session, tmp_path):
    """Six households, two pages: the ballot part of each of the six slips (the left 150 mm,
    which goes into the box) is the same image, marks, cut lines and words included."""
    _need("pdftoppm", "pdftotext")
    commune, group = group_with_households(session, 6)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    issued = service.issue_ballots(session, SYSTEM, poll)
    pdf = tmp_path / "phieu.pdf"
    pdf.write_bytes(ballots_pdf(poll, issued, "http://127.0.0.1", {group.id: group.full_name}))
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(tmp_path / "page")], check=True)
    slip = round(SLIP_H / 25.4 * DPI)
    assert slip == SLIP_H * DPI / 25.4 == 495
    width = round(150 / 25.4 * DPI)
    parts = []
    for image_path in sorted(tmp_path.glob("page-*.png")):
        image = Image.open(image_path).convert("L")
        parts += [image.crop((0, k * slip, width, (k + 1) * slip)) for k in range(3)]
    assert len(parts) == 6
    for k, part in enumerate(parts[1:], start=2):
        difference = ImageChops.difference(parts[0], part)
        assert difference.getbbox() is None, f"slip {k} differs from slip 1 at {difference.getbbox()}"
    assert parts[0].getextrema()[0] < 128  # not blank
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("cắt theo đường này") == 2 * 6


def test_the_vote_key_fingerprint_is_on_every_online_slip_and_on_the_ballot_page(client, session, tmp_path):
    _need("pdftotext")
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    issued = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    fingerprint = service.key_fingerprint(poll.public_key, poll.texts_key)
    pdf = tmp_path / "phieu.pdf"
    pdf.write_bytes(ballots_pdf(poll, issued, "http://127.0.0.1", {group.id: group.full_name}))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count(fingerprint) == 4 and text.count("Khóa của cuộc biểu quyết:") == 4
    page = client.get(f"/b/{issued[0].token}").get_data(as_text=True)
    assert f'<code id="key-fingerprint">{fingerprint}</code>' in page
    assert "phải trùng với dòng in trên phiếu" in page
    _, other_group = group_with_households(session, 2, commune=commune, name="Khu phố 2", prefix="KP2")
    paper = open_vote(session, commune, [other_group], form="ballot", chosen_by_head_and_front=True)
    assert session.get(Poll, paper.id).public_key is None
    paper_slip = service.issue_ballots(session, SYSTEM, paper)[0]
    session.commit()
    assert "key-fingerprint" not in client.get(f"/b/{paper_slip.token}").get_data(as_text=True)
