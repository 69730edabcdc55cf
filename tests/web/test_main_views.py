from sqlalchemy import text

from tests.support.helpers import make_commune


def test_healthz_answers_200_with_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_database(tmp_path):
    from consult import create_app

    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "JOBS_IN_PROCESS": False})  # a serving app: no worker thread on a database that is not there
    assert app.test_client().get("/healthz").status_code == 503


def test_home_page_is_vietnamese_and_uses_only_local_assets(client, session):
    make_commune(session)
    make_commune(session, name="Tân Đông Hiệp", slug="phuong-tan-dong-hiep")
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in html and "Phường Tân Đông Hiệp" in html
    assert 'name="viewport"' in html
    for marker in ("http://", "https://", "//cdn"):
        assert marker not in html.replace("http://127.0.0.1", "")
    assert client.get("/static/css/site.css").status_code == 200


def test_unknown_commune_is_404_in_vietnamese(client):
    r = client.get("/c/khong-co/")
    assert r.status_code == 404 and "Không tìm thấy" in r.get_data(as_text=True)


def test_secret_key_generated_into_instance_folder_once(tmp_path, monkeypatch):
    from consult import create_app

    monkeypatch.delenv("CONSULT_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_configures_database(tmp_path, monkeypatch):
    from consult import create_app

    monkeypatch.setenv("CONSULT_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("CONSULT_SECRET_KEY", "from-env")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DATABASE_URL"].endswith("x.db") and app.secret_key == "from-env"


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    from consult import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path}/wal.sqlite3"})
    with app.extensions["consult_engine"].connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_pages_forbid_scripts_and_framing(client):
    r = client.get("/auth/login")
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"] == "same-origin"
