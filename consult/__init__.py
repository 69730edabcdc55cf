"""consult: grassroots-democracy consultations, votes and reports for a commune.

``create_app`` assembles the application in named steps: configuration,
extensions, database, blueprints, commands, the background worker, input checks,
error pages.
Importing this package has no effect of its own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


class _Request(Flask.request_class):
    """Uploads stay in memory (at most ``MAX_CONTENT_LENGTH``, 12 MB): Werkzeug would write
    any file over 500 KB to a temporary file, and an upload here can be a household register,
    a signed draft or a photo of a board member's key card, none of which should touch the
    disk outside what the application keeps on purpose."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        import io

        return io.BytesIO()


def create_app(config: dict | None = None) -> Flask:
    config = dict(config or {})
    app = Flask(
        __name__,
        instance_path=str(config.pop("INSTANCE_PATH", None) or ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.request_class = _Request
    from consult.config import load_config

    load_config(app, config)
    register_extensions(app)
    register_database(app)
    register_blueprints(app)
    register_commands(app)
    register_worker(app)
    register_input_checks(app)
    register_errorhandlers(app)
    register_templating(app)
    register_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    from consult.extensions import csrf, limiter, login_manager

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_key: str):
        from consult.auth.service import load_user
        from consult.db import db_session

        return load_user(db_session(), user_key)

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def register_database(app: Flask) -> None:
    from consult import db

    db.init_app(app)


def register_blueprints(app: Flask) -> None:
    from consult.admin.views import bp as admin_bp
    from consult.auth.views import bp as auth_bp
    from consult.documents.views import bp as documents_bp
    from consult.jobs.views import bp as jobs_bp
    from consult.mail.views import bp as mail_bp
    from consult.consultations.views import bp as consultations_bp
    from consult.covenants.views import bp as covenants_bp
    from consult.households.views import bp as households_bp
    from consult.main.views import bp as main_bp
    from consult.opinions.views import bp as opinions_bp
    from consult.polls.views import bp as polls_bp
    from consult.polls import ceremony_views  # noqa: F401  (the key ceremony's routes, on polls_bp)
    from consult.proposals.views import bp as proposals_bp
    from consult.publication.views import bp as publication_bp
    from consult.reports.views import bp as reports_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(opinions_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(households_bp)
    app.register_blueprint(polls_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(publication_bp)
    app.register_blueprint(covenants_bp)


def register_commands(app: Flask) -> None:
    from consult.cli import register

    register(app)


def register_worker(app: Flask) -> None:
    """The background work's thread of the embedded setup: created here, started by the
    serving process's first request (consult/worker.py), never by a CLI command."""
    from consult import worker

    worker.init_app(app)


# A NUL can be in no text column of PostgreSQL (the query itself fails), and no one types it.
NUL_MESSAGE = ("Dữ liệu gửi lên có ký tự không hợp lệ (ký tự NUL). "
               "Vui lòng xóa ký tự đó rồi gửi lại; chưa có gì được lưu.")
DATABASE_DOWN_MESSAGE = ("Hệ thống tạm thời không kết nối được cơ sở dữ liệu; chưa có gì được lưu. "
                         "Vui lòng thử lại sau ít phút.")
# Said to a voter whose ballot could not be written: it did not count, and sending it again is safe.
BALLOT_NOT_RECORDED_MESSAGE = "Phiếu chưa được ghi nhận, vui lòng thử lại sau ít phút."


def register_input_checks(app: Flask) -> None:
    """Refuse, before any view runs, what no column can hold: a NUL in the address, a field or a file name.

    One check at the edge rather than one per form, so that every form (the residents' and
    the voters' included) answers in Vietnamese instead of failing inside the database.
    """
    from flask import render_template, request

    def has_nul(values) -> bool:
        return any("\x00" in value for value in values)

    @app.before_request
    def _refuse_nul():
        if has_nul([request.path]) or has_nul(request.args.keys()) or has_nul(request.args.values()) \
                or has_nul(request.form.keys()) or has_nul(request.form.values()) \
                or has_nul(f.filename or "" for f in request.files.values()):
            return render_template("error.html", code=400, message=NUL_MESSAGE), 400
        return None


def register_errorhandlers(app: Flask) -> None:
    from flask import g, render_template, request
    from flask_wtf.csrf import CSRFError
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    messages = {
        400: "Yêu cầu không hợp lệ.",
        403: "Bạn không có quyền truy cập trang này.",
        404: "Không tìm thấy trang hoặc dữ liệu bạn yêu cầu.",
        405: "Phương thức không được hỗ trợ.",
        413: "Tệp gửi lên quá lớn.",
        429: "Bạn đã thử quá nhiều lần. Vui lòng chờ rồi thử lại.",
        500: "Đã có lỗi trong hệ thống. Vui lòng thử lại sau.",
    }

    def forget_the_request_transaction() -> None:
        # A failed statement leaves the request's session unusable (PostgreSQL refuses
        # everything until a rollback), and the error page still asks for the signed-in user.
        session = g.get("db_session")
        if session is not None:
            try:
                session.rollback()
            except Exception:  # noqa: BLE001 - the database may be gone; the page must still show
                app.logger.warning("rollback failed while showing an error page", exc_info=True)

    def handler(error):
        code = getattr(error, "code", 500) or 500
        message = messages.get(code, messages[500])
        if code >= 500:
            forget_the_request_transaction()
        return render_template("error.html", code=code, message=message), code

    for code in messages:
        app.register_error_handler(code, handler)

    # Every refusal of a rule (consult.errors.DomainError) that leaves a view: rolled back,
    # answered with the rule's words and its status (consult/pages.py).
    from consult.errors import DomainError
    from consult.pages import refused

    app.register_error_handler(DomainError, refused)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_template(
            "error.html", code=400,
            message="Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và gửi lại.",
        ), 400

    def _database_down(error):
        """The database is unreachable, locked or gave up the transaction: HTTP 503, try again.

        The request's transaction did not commit, so nothing of it was saved. A voter is told so
        in the words that matter to them: the ballot did not count and may be sent again (were the
        database lost just after a commit, the ballot sent again is refused as a second one).
        """
        from consult.extensions import login_manager

        app.logger.error("database unavailable: %s %s: %s", request.method, request.path, error)
        forget_the_request_transaction()
        # The page must not ask the database who is signed in.
        g._login_user = login_manager.anonymous_user()
        ballot = request.path.startswith("/b/") and request.method == "POST"
        message = BALLOT_NOT_RECORDED_MESSAGE if ballot else DATABASE_DOWN_MESSAGE
        return render_template("error.html", code=503, message=message), 503, {"Retry-After": "30"}

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(kind, _database_down)


def register_templating(app: Flask) -> None:
    from flask import request

    from consult import timeutil

    timeutil.register_filters(app)

    @app.after_request
    def _security_headers(response):
        # Pages use no script at all; styles and images come from this site
        # (QR codes are inline SVG, charts are SVG drawn on the server).
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: Flask-WTF checks the Referer of HTTPS posts; no other site sees a ballot link.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path == "/b" or request.path.startswith("/b/"):
            # Every answer of the ballot pages, errors included: a shared phone's cache or a
            # proxy keeps no household's ballot page (its choice on the review page).
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("HSTS"):
            # Only behind HTTPS (CONSULT_HSTS): browsers then refuse plain HTTP to this host for a year.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_logging(app: Flask) -> None:
    """No log line names a household's ballot link (consult/accesslog.py): Flask's own
    messages ("Exception on /b/<token>") and the development server's request lines."""
    import logging

    from consult.accesslog import protect_loggers

    protect_loggers(app.logger, logging.getLogger("werkzeug"))
