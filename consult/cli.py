"""flask --app consult ... commands."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from consult.audit.service import SYSTEM
from consult.db import db_session


def register(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(create_user_cmd)
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_cmd)
    app.cli.add_command(parse_draft_cmd)
    app.cli.add_command(report_cmd)
    app.cli.add_command(ballots_cmd)
    app.cli.add_command(backup_cmd)
    app.cli.add_command(restore_cmd)
    app.cli.add_command(check_deploy_cmd)
    app.cli.add_command(worker_cmd)


db_group = AppGroup("db", help="Cơ sở dữ liệu: tạo mới hoặc nâng cấp lược đồ.")
audit_group = AppGroup("audit", help="Nhật ký thao tác.")


@db_group.command("upgrade", help="Tạo hoặc nâng cấp cơ sở dữ liệu (CONSULT_DATABASE_URL, mặc định SQLite trong instance/).")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    from consult import migrate

    url = current_app.config["DATABASE_URL"]
    before = migrate.current(url)
    migrate.upgrade(url, revision)
    after = migrate.current(url)
    if before is None:
        click.echo(f"Đã tạo cơ sở dữ liệu mới, phiên bản {after}: {_redact(url)}")
    elif before == after:
        click.echo(f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({after}), không cần nâng cấp: {_redact(url)}")
    else:
        click.echo(f"Đã nâng cấp cơ sở dữ liệu từ phiên bản {before} lên {after}: {_redact(url)}")


def site_address() -> str:
    """Where the site will be opened: PUBLIC_BASE_URL when set, else ``flask run``'s address
    (FLASK_RUN_HOST, FLASK_RUN_PORT; 127.0.0.1:5000 by default)."""
    import os

    if current_app.config.get("PUBLIC_BASE_URL"):
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    host = os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('FLASK_RUN_PORT') or 5000}"


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("create-user", help="Tạo tài khoản cán bộ.")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "group_head", "unit_rep"]))
@click.option("--commune", "commune_slug", default=None, help="Mã đường dẫn của xã, phường (bỏ trống: quản trị toàn hệ thống).")
@click.option("--group", "group_name", default=None, help="Tên khu phố, thôn (Trưởng khu phố).")
@click.option("--unit", "unit_name", default=None, help="Tên đơn vị (đại diện đơn vị).")
@click.password_option("--password", prompt="Mật khẩu")
@with_appcontext
def create_user_cmd(username, full_name, role, commune_slug, group_name, unit_name, password):
    from sqlalchemy import select

    from consult.auth.service import AccountError, create_user
    from consult.communes.models import Commune, ResidentialGroup, Unit

    session = db_session()
    commune_id = group_id = unit_id = None
    if commune_slug:
        commune = session.scalar(select(Commune).where(Commune.slug == commune_slug))
        if commune is None:
            raise click.ClickException(f"Không có xã, phường mã “{commune_slug}”.")
        commune_id = commune.id
        if group_name:
            group_id = session.scalar(select(ResidentialGroup.id).where(
                ResidentialGroup.commune_id == commune_id, ResidentialGroup.name == group_name))
        if unit_name:
            unit_id = session.scalar(select(Unit.id).where(Unit.commune_id == commune_id, Unit.name == unit_name))
    try:
        user = create_user(session, SYSTEM, username=username, full_name=full_name, role=role,
                           password=password, commune_id=commune_id, group_id=group_id, unit_id=unit_id)
    except AccountError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from None
    session.commit()
    click.echo(f"Đã tạo tài khoản {user.username} ({user.role_label}).")


@audit_group.command("verify", help="Kiểm tra chuỗi băm của nhật ký; báo bản ghi hỏng đầu tiên.")
@click.option("--head", "head_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Tệp mốc đã xuất bằng 'audit head' để phát hiện việc xóa các bản ghi mới nhất.")
def audit_verify(head_file: str | None):
    import json

    from consult.audit.service import verify_chain

    exported = json.loads(open(head_file, encoding="utf-8").read()) if head_file else None
    report = verify_chain(db_session(), exported=exported)
    if report.ok:
        click.echo(f"Nhật ký toàn vẹn: {report.checked} bản ghi.")
        return
    click.echo(f"Nhật ký bị hỏng tại bản ghi #{report.broken_id}: {report.reason} "
               f"({report.checked} bản ghi trước đó hợp lệ).", err=True)
    sys.exit(1)


@audit_group.command("head", help="Xuất mốc của chuỗi nhật ký (số và mã băm bản ghi mới nhất) để lưu ngoài máy chủ.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
def audit_head(output: str | None):
    import json

    from consult.audit.service import export_head

    text = json.dumps(export_head(db_session()), ensure_ascii=False)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"Đã xuất mốc nhật ký vào {output}.")
    else:
        click.echo(text)


@click.command("demo", help="Nạp dữ liệu mẫu: Phường Bình An (chạy lại không thay đổi gì).")
@with_appcontext
def demo_cmd():
    from consult.auth.pickup import cost_from_config
    from consult.demo import load_demo

    lines = load_demo(db_session(), current_app.instance_path, pickup_cost=cost_from_config(current_app.config),
                      site=site_address())
    db_session().commit()
    for line in lines:
        click.echo(line)


@click.command("parse-draft", help="Phân tích dự thảo (.txt, .docx, .doc, .odt hoặc .pdf) và in cấu trúc dạng JSON.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def parse_draft_cmd(path: str):
    """The draft read as the upload page reads it (``reader.read_draft_file``), then parsed."""
    import json
    from pathlib import Path

    from consult.consultations.reader import DEFAULT_MAX_BYTES, read_draft_file
    from consult.errors import DomainError

    try:
        limit = current_app.config.get("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)
    except RuntimeError:  # no application context: the upload page's default
        limit = DEFAULT_MAX_BYTES
    file = Path(path)
    try:
        # A scan is read by OCR here, in the foreground: its progress goes to standard error.
        drafted = read_draft_file(file.name, file.read_bytes(), max_bytes=limit, progress=lambda done, total: (
            click.echo(f"Nhận dạng chữ bản quét: đã đọc {done}/{total} trang", err=True)))
        parsed = drafted.parse()
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    output = parsed.to_dict()
    output["source"] = drafted.facts()
    click.echo(json.dumps(output, ensure_ascii=False, indent=2))


@click.command("report", help="Xuất báo cáo tổng hợp, tiếp thu, giải trình ý kiến (.docx hoặc .xlsx).")
@click.argument("consultation_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@with_appcontext
def report_cmd(consultation_id: int, fmt: str, output: str):
    from pathlib import Path

    from consult.consultations.models import Consultation
    from consult.reports.service import report_data
    from consult.reports.export import export

    session = db_session()
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"Không có đợt lấy ý kiến số {consultation_id}.")
    data = report_data(session, consultation)
    session.commit()
    Path(output).write_bytes(export(data, fmt))
    if data.final:
        state = "chính thức"
    elif data.undecided:
        state = f"DỰ THẢO, còn {data.undecided} ý kiến chưa xử lý"
    else:
        state = "DỰ THẢO, chưa hết thời hạn góp ý"
    click.echo(f"Đã ghi {output} ({data.total_opinions} ý kiến; bản {state}).")


@click.command("ballots", help="In phiếu biểu quyết (PDF) cho các hộ chưa biểu quyết; phiếu in trước đó bị hủy.")
@click.argument("vote_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--base-url", default=None, help="Địa chỉ trang biểu quyết in trong mã QR (mặc định PUBLIC_BASE_URL).")
@with_appcontext
def ballots_cmd(vote_id: int, output: str, base_url: str | None):
    from pathlib import Path

    from consult.polls.ballots_pdf import ballots_pdf
    from consult.polls.models import Poll
    from consult.polls.service import PollError, issue_ballots

    session = db_session()
    poll = session.get(Poll, vote_id)
    if poll is None:
        raise click.ClickException(f"Không có cuộc biểu quyết số {vote_id}.")
    try:
        issued = issue_ballots(session, SYSTEM, poll)
    except PollError as exc:
        raise click.ClickException(str(exc)) from None
    base = base_url or current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    groups = {g.group_id: g.group.full_name for g in poll.groups}
    Path(output).write_bytes(ballots_pdf(poll, issued, base, groups))
    session.commit()
    click.echo(f"Đã ghi {output}: {len(issued)} phiếu.")


@click.command("backup", help="Sao lưu nhất quán cơ sở dữ liệu đang chạy (SQLite: API sao lưu trực tuyến; "
                              "PostgreSQL: pg_dump).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@with_appcontext
def backup_cmd(output: str):
    from consult.operations import OperationError, backup

    try:
        backup(current_app.config["DATABASE_URL"], output)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã sao lưu vào {output}.")


@click.command("restore", help="Khôi phục cơ sở dữ liệu từ một bản sao lưu (thay thế dữ liệu hiện có).")
@click.argument("backup_file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Xác nhận thay thế dữ liệu hiện có.")
@with_appcontext
def restore_cmd(backup_file: str, yes: bool):
    from consult.operations import OperationError, restore

    if not yes:
        raise click.ClickException("Khôi phục sẽ thay thế toàn bộ dữ liệu hiện có: chạy lại với --yes để xác nhận.")
    current_app.extensions["consult_engine"].dispose()
    try:
        restore(current_app.config["DATABASE_URL"], backup_file)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã khôi phục từ {backup_file}.")


@click.command("check-deploy", help="Kiểm tra cấu hình trước khi chạy thật: khóa bí mật, cơ sở dữ liệu, "
                                    "giới hạn tần suất, cookie.")
@click.option("--workers", type=int, default=None,
              help="Số tiến trình sẽ chạy (mặc định WEB_CONCURRENCY hoặc 1).")
@with_appcontext
def check_deploy_cmd(workers: int | None):
    import os

    from consult.operations import check_deploy

    workers = workers or int(os.environ.get("WEB_CONCURRENCY", "1") or 1)
    findings = check_deploy(current_app.config, current_app.extensions["consult_engine"], workers=workers)
    for finding in findings:
        click.echo(f"{'LỖI' if finding.level == 'error' else 'Lưu ý'}: {finding.message}")
    if any(f.level == "error" for f in findings):
        sys.exit(1)
    click.echo("Sẵn sàng chạy thật." if not findings else "Không có lỗi chặn.")


@click.command("worker", help="Chạy các việc nền (in phiếu cho cả khu dân cư, gửi thư nhắc...) từ hàng đợi trong cơ sở dữ liệu.")
@click.option("--once", is_flag=True, help="Chạy hết các việc đang chờ rồi dừng.")
@click.option("--interval", default=1.0, show_default=True, help="Số giây giữa hai lần xem hàng đợi.")
@with_appcontext
def worker_cmd(once: bool, interval: float):
    """The passes of ``consult.worker.run_pass``, as the embedded setup's thread runs them."""
    import time

    from consult.worker import DEADLINES_EVERY, run_pass

    checked_deadlines = float("-inf")
    while True:
        deadlines = once or time.monotonic() - checked_deadlines >= DEADLINES_EVERY  # they move by days
        if deadlines:
            checked_deadlines = time.monotonic()
        done = run_pass(current_app, deadlines=deadlines)
        if done.jobs:
            click.echo(f"Đã chạy {done.jobs} việc.")
        if done.reminded:
            click.echo(f"Đã xếp {done.reminded} thư nhắc hạn gửi kết quả biểu quyết.")
        mailed = done.mailed
        if any(mailed.values()):
            click.echo(f"Thư: đã gửi {mailed['sent']}, sẽ thử lại {mailed['retry']}, không gửi được {mailed['failed']}.")
        if once:
            return
        time.sleep(interval)
