"""Schema only through Alembic: the models and the migrations agree, and an
empty PostgreSQL and an empty SQLite end with the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from consult import migrate
from consult.models import metadata


def test_models_and_migrations_agree(app):
    engine = app.extensions["consult_engine"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def _schema(url):
    engine = create_engine(url)
    insp = inspect(engine)
    schema = {}
    for table in insp.get_table_names():
        if table == "alembic_version":
            continue
        columns = {c["name"]: (c["nullable"], type(c["type"]).__name__.upper().replace("VARCHAR", "STRING"))
                   for c in insp.get_columns(table)}
        uniques = sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table))
        fks = sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table))
        indexes = sorted(i["name"] for i in insp.get_indexes(table) if not i.get("duplicates_constraint"))
        schema[table] = ({k: v[0] for k, v in columns.items()}, uniques, fks, indexes)
    engine.dispose()
    return schema


def test_db_upgrade_gives_same_schema_on_empty_sqlite_and_postgresql(pg_server, tmp_path, monkeypatch):
    from consult import create_app

    sqlite_url = f"sqlite:///{tmp_path}/empty.sqlite3"
    admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS empty_schema_check"))
        conn.execute(text("CREATE DATABASE empty_schema_check"))
    pg_url = pg_server.url("empty_schema_check")
    for url in (sqlite_url, pg_url):
        monkeypatch.setenv("CONSULT_DATABASE_URL", url)
        app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        app.extensions["consult_engine"].dispose()
    sqlite_schema, pg_schema = _schema(sqlite_url), _schema(pg_url)
    assert set(sqlite_schema) == set(pg_schema)
    for table in sqlite_schema:
        assert sqlite_schema[table] == pg_schema[table], table
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE empty_schema_check WITH (FORCE)"))
    admin.dispose()


def test_downgrade_to_base_and_up_again(db_url):
    migrate.downgrade(db_url, "base")
    engine = create_engine(db_url)
    assert [t for t in inspect(engine).get_table_names() if t != "alembic_version"] == []
    engine.dispose()
    migrate.upgrade(db_url)
    engine = create_engine(db_url)
    assert "commune" in inspect(engine).get_table_names()
    engine.dispose()
