"""flask --app consult ... commands."""

from sqlalchemy import text


def test_demo_loads_binh_an_and_second_run_changes_nothing(app, runner, session):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Phường Bình An" in first.output
    for username in ("admin.binhan", "tam.vptk", "truong.kp1", "mttq.binhan"):
        assert username in first.output

    def counts():
        return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("commune", "residential_group", "household", "unit", "user_account", "audit_entry")}

    before = counts()
    assert before["residential_group"] >= 3 and 200 <= before["household"] <= 1000
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert counts() == before
    # Same credentials printed both times, so the first printout stays valid.
    assert [line for line in first.output.splitlines() if "tam.vptk" in line] == \
           [line for line in second.output.splitlines() if "tam.vptk" in line]
    names = {r[0] for r in session.execute(text("SELECT name FROM unit"))}
    for expected in ("Đảng ủy phường", "Hội đồng nhân dân phường", "Ủy ban nhân dân phường",
                     "Ủy ban MTTQ Việt Nam phường", "Công an phường", "Ban Chỉ huy Quân sự phường",
                     "Ban điều hành khu phố 1", "Tổ nhân dân tự quản khu phố 1"):
        assert expected in names


def test_demo_officer_can_log_in_with_printed_credentials(app, runner, client):
    import pyotp

    from tests.support.helpers import post_form

    output = runner.invoke(args=["demo"]).output
    line = next(line for line in output.splitlines() if "tam.vptk" in line)
    _, password, secret = line.split()[-3:]
    post_form(client, "/auth/login", {"username": "tam.vptk", "password": password})
    r = post_form(client, "/auth/totp", {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302
    assert client.get("/staff").status_code == 200


def test_create_user_command(runner, session):
    runner.invoke(args=["demo"])
    r = runner.invoke(args=["create-user", "--username", "hoa.vptk", "--full-name", "Đỗ Thị Hoa",
                            "--role", "officer", "--commune", "phuong-binh-an", "--password", "mot-mat-khau-dai"])
    assert r.exit_code == 0, r.output
    assert session.execute(text("SELECT role FROM user_account WHERE username='hoa.vptk'")).scalar() == "officer"
    bad = runner.invoke(args=["create-user", "--username", "x.y", "--full-name", "X", "--role", "officer",
                              "--commune", "khong-co", "--password", "mot-mat-khau-dai"])
    assert bad.exit_code != 0 and "Không có xã, phường" in bad.output


def test_demo_links_name_the_port_the_site_runs_on(app, runner, session, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_PORT", "8080")
    output = runner.invoke(args=["demo"]).output
    links = [word for word in output.split() if word.startswith("http")]
    assert links and all(link.startswith("http://127.0.0.1:8080/") for link in links), links
    app.config["PUBLIC_BASE_URL"] = "https://dan-chu.binhan.gov.vn/"
    again = runner.invoke(args=["demo"]).output
    assert "https://dan-chu.binhan.gov.vn/c/phuong-binh-an/" in again and ":8080" not in again


def test_demo_quy_uoc_of_khu_pho_3_reads_as_written_for_it(app, runner, session):
    from sqlalchemy import select

    from consult.consultations.parser import parse_draft
    from consult.covenants.models import Covenant

    runner.invoke(args=["demo"])
    quy_uoc = session.scalar(select(Covenant).where(Covenant.kind == "quy_uoc"))
    words = quy_uoc.draft_text
    assert "khu phố 3, phường Bình An" in words and "Quy ước này quy định" in words
    assert "từ 18 giờ đến 20 giờ" in words and "sau 22 giờ" in words and "Hương ước" not in words
    numbers = [p.number for p in parse_draft(words).walk() if p.kind == "article"]
    assert numbers == ["1", "2", "3", "4"]


def test_db_upgrade_says_what_it_did(tmp_path, monkeypatch):
    from flask.testing import FlaskCliRunner

    from consult import create_app

    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = FlaskCliRunner(app)
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0 and first.output.startswith("Đã tạo cơ sở dữ liệu mới, phiên bản "), first.output
    again = runner.invoke(args=["db", "upgrade"])
    assert again.output.startswith("Cơ sở dữ liệu đã ở phiên bản mới nhất ("), again.output
    older = first.output.split("phiên bản ")[1].split(":")[0]
    from consult import migrate

    migrate.downgrade(url, "-1")
    up = runner.invoke(args=["db", "upgrade"])
    assert up.output.startswith("Đã nâng cấp cơ sở dữ liệu từ phiên bản ") and f"lên {older}:" in up.output, up.output
    app.extensions["consult_engine"].dispose()
