"""Reminders by mail: queued by a page, delivered by a runner (never inside a request).

Delivery goes through any SMTP server set by environment variables (``CONSULT_SMTP_HOST``,
``_PORT``, ``_USER``, ``_PASSWORD``, ``_STARTTLS``, ``CONSULT_MAIL_FROM``). A refusal for
good (5xx) marks the message failed at once, with the server's words; a passing trouble
(4xx, the server unreachable) is tried again after 1, 5, 30 minutes, 2 and 6 hours, then
given up. The runner is ``flask --app consult worker`` (or the worker thread of the web process,
as for the other jobs: ``consult.worker``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult.audit.service import SYSTEM, Actor, record
from consult.consultations.models import Consultation
from consult.errors import DomainError
from consult.paging import Page, keyset_page
from consult.mail.models import FAILED, QUEUED, SENT, TOPIC_SEND_DUE, TOPIC_SEND_LATE, OutgoingMail
from consult.timeutil import format_date, format_datetime, local_date, today, utcnow

RETRY_AFTER = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
               timedelta(hours=6)]


class MailError(DomainError):
    """Mail cannot be queued; the message is for the user."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "consult@localhost"

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(config.get("SMTP_HOST") or None, int(config.get("SMTP_PORT") or 25), config.get("SMTP_USER") or None,
                   config.get("SMTP_PASSWORD") or None, bool(config.get("SMTP_STARTTLS")),
                   config.get("MAIL_FROM") or "consult@localhost")


def queue_reminders(session: Session, actor: Actor, consultation: Consultation, summary, *,
                    reply_url: str, now: datetime | None = None) -> tuple[int, list[str]]:
    """A reminder for each unit still to remind that has an address and no reminder waiting;
    returns how many were queued and the names of the units without an address (to print)."""
    now = now or utcnow()
    if not consultation.accepts_opinions(now):
        raise MailError("Đợt lấy ý kiến không còn nhận ý kiến; không gửi thư nhắc.")
    waiting = set(session.scalars(select(OutgoingMail.unit_id).where(
        OutgoingMail.consultation_id == consultation.id, OutgoingMail.status == QUEUED)))
    queued, without = 0, []
    for state in summary.to_remind:
        unit = state.unit
        if not (unit.email or "").strip():
            without.append(unit.name)
            continue
        if unit.id in waiting:
            continue
        session.add(OutgoingMail(
            commune_id=consultation.commune_id, consultation_id=consultation.id, unit_id=unit.id, recipient=unit.name,
            to_address=unit.email.strip(), subject=f"Nhắc gửi ý kiến: {consultation.title}"[:300],
            body=_reminder_text(consultation, unit.name, reply_url), status=QUEUED, next_attempt_at=now,
            queued_by=actor.name, queued_at=now))
        queued += 1
    session.flush()
    if queued:
        record(session, actor, "mail.queue_reminders", consultation, now=now, details={"queued": queued})
    return queued, without


# The group head is reminded from the 3rd working day after the vote, when 2 are left.
REMIND_AFTER_WORKING_DAYS = 3


def queue_deadline_reminders(session: Session, *, base_url: str = "", now: datetime | None = None) -> int:
    """Remind each group head whose vote's decision has not yet been sent to the commune's UBND
    and Fatherland Front, which the law wants within 5 working days (Luật Điều 20 khoản 3):
    once when 2 working days are left, once more when the deadline has passed. Heads without
    an address are not mailed: the vote's page shows the deadline to them and to the officers."""
    from consult.communes.models import ResidentialGroup
    from consult.polls.deadlines import calendar, vote_ended_at
    from consult.polls.models import STATUS_DECIDED, Poll

    now = now or utcnow()
    day = today(now)
    rows = session.execute(select(Poll, ResidentialGroup).join(ResidentialGroup, Poll.group_id == ResidentialGroup.id)
                           .where(Poll.status == STATUS_DECIDED, Poll.sent_on.is_(None), Poll.decided_at.is_not(None),
                                  ResidentialGroup.head_email.is_not(None)))
    done = set(session.execute(select(OutgoingMail.poll_id, OutgoingMail.topic).where(
        OutgoingMail.poll_id.is_not(None))).all())
    queued = 0
    for poll, group in rows:
        # Counted from the end of the vote (Điều 20 khoản 3), as the vote's page shows.
        decided = local_date(vote_ended_at(poll))
        work = calendar(session, poll.commune_id, decided)
        deadline = work.add_working_days(decided, 5)
        if day > deadline:
            topic = TOPIC_SEND_LATE
        elif day >= work.add_working_days(decided, REMIND_AFTER_WORKING_DAYS):
            topic = TOPIC_SEND_DUE
        else:
            continue
        if (poll.id, topic) in done:
            continue
        head = head_title(group)
        late = topic == TOPIC_SEND_LATE
        subject = (f"{'Quá hạn' if late else 'Nhắc hạn'} gửi kết quả biểu quyết: {poll.title}")[:300]
        body = (f"Kính gửi: {head},\n\n"
                f"Kết quả biểu quyết \"{poll.title}\" ngày {format_date(decided)} phải được gửi Ủy ban nhân dân và "
                f"Ủy ban Mặt trận Tổ quốc Việt Nam {poll.commune.full_name} trong 5 ngày làm việc, chậm nhất ngày "
                f"{format_date(deadline)} (khoản 3 Điều 20 Luật Thực hiện dân chủ ở cơ sở).\n\n"
                + ("Đã quá hạn mà hệ thống chưa ghi nhận ngày gửi. " if late else
                   "Đến nay hệ thống chưa ghi nhận ngày gửi. ")
                + "Đề nghị gửi biên bản, nghị quyết và ghi ngày gửi trên trang cuộc biểu quyết: "
                f"{base_url.rstrip('/')}/polls/{poll.id}\n")
        session.add(OutgoingMail(
            commune_id=poll.commune_id, poll_id=poll.id, topic=topic, recipient=head, to_address=group.head_email,
            subject=subject, body=body, status=QUEUED, next_attempt_at=now, queued_by="hệ thống (nhắc hạn)",
            queued_at=now))
        record(session, SYSTEM, "mail.queue_deadline", poll, now=now, details={"topic": topic,
                                                                                "deadline": deadline.isoformat()})
        queued += 1
    session.flush()
    return queued


def head_title(group) -> str:
    """'Trưởng khu phố 1', 'Trưởng thôn Bình Minh', 'Tổ trưởng tổ dân phố 3'."""
    from consult.polls.rules import HEAD_TITLES

    title = HEAD_TITLES.get(group.kind, "TRƯỞNG").capitalize()
    name = group.name
    if name.lower().startswith(group.kind_label.lower()):
        name = name[len(group.kind_label):].strip()
    return f"{title} {name}".strip()


def poll_mail(session: Session, poll_id: int) -> list[OutgoingMail]:
    return list(session.scalars(select(OutgoingMail).where(OutgoingMail.poll_id == poll_id)
                                .order_by(OutgoingMail.queued_at.desc(), OutgoingMail.id.desc())))


def commune_mail(session: Session, commune_id: int, *, status: str | None = None, after: int | None = None,
                 before: int | None = None, size: int = 100) -> Page[OutgoingMail]:
    """A page of the commune's mail, newest first, of one status or all, after or before a
    message (its id in the links): one range of the index (commune_id, queued_at, id) at
    any size of the outbox."""
    def key_of(mail_id: int | None) -> tuple | None:
        row = session.get(OutgoingMail, mail_id) if mail_id else None
        return (row.queued_at, row.id) if row is not None else None

    stmt = select(OutgoingMail).where(OutgoingMail.commune_id == commune_id)
    if status:
        stmt = stmt.where(OutgoingMail.status == status)
    return keyset_page(session, stmt, [OutgoingMail.queued_at, OutgoingMail.id], lambda m: (m.queued_at, m.id),
                       cursor=lambda m: m.id, descending=True, size=size, after=key_of(after), before=key_of(before))


def _reminder_text(consultation: Consultation, unit_name: str, reply_url: str) -> str:
    commune = consultation.commune
    letter = f" theo Công văn số {consultation.letter_number}" if consultation.letter_number else ""
    return (f"Kính gửi: {unit_name},\n\n"
            f"Ủy ban nhân dân {commune.kind_label.lower()} {commune.name} đã xin ý kiến góp ý đối với "
            f"\"{consultation.title}\"{letter}. Đến nay chưa nhận được văn bản trả lời của đơn vị.\n\n"
            f"Đề nghị đơn vị gửi ý kiến trước {format_datetime(consultation.closes_at)}, kể cả trường hợp nhất trí, "
            f"không có ý kiến (trả lời trực tuyến tại {reply_url}, hoặc bằng văn bản).\n\n"
            f"Cán bộ phụ trách: {consultation.officer_name}"
            + (f", {consultation.officer_contact}" if consultation.officer_contact else "") + ".\n")


def deliver_due(sessionmaker, settings: SmtpSettings, *, now: datetime | None = None) -> dict[str, int]:
    """Send the messages whose time has come; returns counts of sent, retried, failed."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not settings.host:
        return counts
    session: Session = sessionmaker()
    try:
        due = list(session.scalars(select(OutgoingMail).where(
            OutgoingMail.status == QUEUED, OutgoingMail.next_attempt_at <= now).order_by(OutgoingMail.id).limit(200)))
        if not due:
            return counts
        session.commit()  # no transaction (on SQLite, no write lock) held while talking to the server
        try:
            client = _connect(settings)
        except (OSError, smtplib.SMTPException) as exc:
            for mail in due:
                _later(mail, f"Không kết nối được máy chủ thư: {exc}", now, counts)
            session.commit()
            return counts
        try:
            for mail in due:
                try:
                    client.send_message(_message(mail, settings))
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    _refused(mail, code, text, now, counts)
                except smtplib.SMTPResponseException as exc:
                    _refused(mail, exc.smtp_code, exc.smtp_error, now, counts)
                except (OSError, smtplib.SMTPException) as exc:
                    _later(mail, str(exc), now, counts)
                else:
                    mail.status, mail.sent_at, mail.last_error = SENT, now, None
                    mail.attempts += 1
                    counts["sent"] += 1
                session.commit()
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                pass
        return counts
    finally:
        session.close()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    client = smtplib.SMTP(settings.host, settings.port, timeout=20)
    if settings.starttls:
        client.starttls(context=ssl.create_default_context())
    if settings.user:
        client.login(settings.user, settings.password or "")
    return client


def _message(mail: OutgoingMail, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("consult", settings.sender))
    message["To"] = formataddr((mail.recipient, mail.to_address))
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refused(mail: OutgoingMail, code: int, text, now: datetime, counts: dict) -> None:
    if 400 <= code < 500:
        _later(mail, f"{code} {_text(text)}", now, counts)
        return
    mail.attempts += 1
    mail.status, mail.last_error = FAILED, f"{code} {_text(text)}"
    counts["failed"] += 1


def _later(mail: OutgoingMail, error: str, now: datetime, counts: dict) -> None:
    mail.attempts += 1
    mail.last_error = error[:2000]
    if mail.attempts > len(RETRY_AFTER):
        mail.status = FAILED
        counts["failed"] += 1
        return
    mail.next_attempt_at = now + RETRY_AFTER[mail.attempts - 1]
    counts["retry"] += 1


def outbox(session: Session, consultation: Consultation) -> list[OutgoingMail]:
    return list(session.scalars(select(OutgoingMail).where(OutgoingMail.consultation_id == consultation.id)
                                .order_by(OutgoingMail.queued_at.desc(), OutgoingMail.id.desc())))


# --- a resident told when a draft's results are published ------------------------------------

# A confirmation mail goes to one address at most once a day, however often it is asked for.
CONFIRM_AGAIN_AFTER = timedelta(hours=24)
# The local part in the ASCII letters RFC 5322 allows unquoted (no control character, no NUL,
# which PostgreSQL refuses; no letter an SMTP server without SMTPUTF8 would refuse), the domain
# in ASCII (an IDN domain as its xn-- form).
_ADDRESS_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                         r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                         r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
SUBSCRIBER = "Người dân đăng ký nhận thư báo kết quả"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def shown_address(mail: OutgoingMail) -> str:
    """A message's address as staff pages show it: a unit's or a head's whole; a resident's
    (a results subscription) only its first letter and its domain."""
    from consult.mail.models import TOPIC_CONFIRM, TOPIC_RESULTS

    if mail.topic not in (TOPIC_CONFIRM, TOPIC_RESULTS):
        return mail.to_address
    local, _, domain = (mail.to_address or "").partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def subscribe_results(session: Session, consultation: Consultation, email: str, *, confirm_url,
                      now: datetime | None = None) -> None:
    """Ask for the results of ``consultation`` by mail: a confirmation mail goes to the address,
    whose link (``confirm_url(token)``) makes it count. The answer is the same whether the
    address was already there or not, so that nobody learns who follows a draft."""
    from consult.consultations.models import STATUS_PUBLISHED
    from consult.mail.models import TOPIC_CONFIRM, ResultSubscription

    now = now or utcnow()
    address = (email or "").strip().lower()
    if not address:
        raise MailError("Vui lòng nhập địa chỉ thư điện tử.", field="email")
    if len(address) > 200 or len(address.partition("@")[0]) > 64 or not _ADDRESS_RE.fullmatch(address):
        raise MailError("Địa chỉ thư điện tử không đúng (ví dụ: nguyenvanan@gmail.com).", field="email")
    if consultation.status == STATUS_PUBLISHED:
        raise MailError("Kết quả đã được công khai: xem ngay trên trang dự thảo.", field="email")
    existing = session.scalar(select(ResultSubscription).where(
        ResultSubscription.consultation_id == consultation.id, ResultSubscription.email == address))
    if existing is not None and (existing.confirmed_at is not None or now - existing.asked_at < CONFIRM_AGAIN_AFTER):
        return
    token = secrets.token_urlsafe(24)
    if existing is None:
        try:
            with session.begin_nested():  # two posts at once: one row, the other is the same answer
                session.add(ResultSubscription(consultation_id=consultation.id, email=address,
                                               token_hash=_token_hash(token), created_at=now, asked_at=now))
        except IntegrityError:
            return
    else:
        existing.token_hash, existing.asked_at = _token_hash(token), now
    commune = consultation.commune
    session.add(OutgoingMail(
        commune_id=consultation.commune_id, consultation_id=consultation.id, topic=TOPIC_CONFIRM, recipient=SUBSCRIBER,
        to_address=address, subject=f"Xác nhận nhận thư báo kết quả: {consultation.title}"[:300],
        body=(f"Có người (có thể là bạn) đã đăng ký địa chỉ này để nhận thư báo khi {commune.kind_label.lower()} "
              f"{commune.name} công khai kết quả lấy ý kiến về \"{consultation.title}\".\n\n"
              f"Để nhận thư báo, mở đường dẫn sau và bấm \"Xác nhận\":\n{confirm_url(token)}\n\n"
              "Nếu không phải bạn đăng ký, hãy bỏ qua thư này: không có thư nào khác được gửi tới địa chỉ này.\n"),
        status=QUEUED, next_attempt_at=now, queued_by=SUBSCRIBER, queued_at=now))
    session.flush()


def subscription_of(session: Session, token: str):
    """The subscription a mail's link stands for, or None (unknown, stopped, or already served)."""
    from consult.mail.models import ResultSubscription

    if not token or len(token) > 100:
        return None
    return session.scalar(select(ResultSubscription).where(ResultSubscription.token_hash == _token_hash(token)))


def confirm_subscription(session: Session, subscription, *, now: datetime | None = None) -> None:
    if subscription.confirmed_at is None:
        subscription.confirmed_at = now or utcnow()
        session.flush()


def stop_subscription(session: Session, subscription) -> None:
    session.delete(subscription)
    session.flush()


def queue_results_news(session: Session, actor: Actor, consultation: Consultation, *, report_url: str,
                       now: datetime | None = None) -> int:
    """At the publication of the results: one mail to each confirmed address, then every address
    of the draft deleted (confirmed or not): they served their one purpose."""
    from consult.mail.models import TOPIC_RESULTS, ResultSubscription

    now = now or utcnow()
    subscriptions = list(session.scalars(select(ResultSubscription).where(
        ResultSubscription.consultation_id == consultation.id).order_by(ResultSubscription.id)))
    commune = consultation.commune
    queued = 0
    for subscription in subscriptions:
        if subscription.confirmed_at is not None:
            session.add(OutgoingMail(
                commune_id=consultation.commune_id, consultation_id=consultation.id, topic=TOPIC_RESULTS,
                recipient=SUBSCRIBER, to_address=subscription.email,
                subject=f"Đã công khai kết quả lấy ý kiến: {consultation.title}"[:300],
                body=(f"Ủy ban nhân dân {commune.kind_label.lower()} {commune.name} đã công khai kết quả tiếp thu, "
                      f"giải trình ý kiến góp ý về \"{consultation.title}\" (Luật Thực hiện dân chủ ở cơ sở, Điều 28).\n\n"
                      f"Xem báo cáo: {report_url}\n\n"
                      "Đây là thư duy nhất bạn đăng ký nhận: địa chỉ của bạn đã được xóa khỏi danh sách.\n"),
                status=QUEUED, next_attempt_at=now, queued_by=actor.name, queued_at=now))
            queued += 1
        session.delete(subscription)
    session.flush()
    if subscriptions:
        record(session, actor, "mail.queue_results_news", consultation, now=now,
               details={"queued": queued, "unconfirmed_deleted": len(subscriptions) - queued})
    return queued
