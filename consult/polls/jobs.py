"""Slips for a whole ward, printed as a background job (consult/jobs): the page shows a
progress bar, and no web request runs longer than a moment.

The links and codes are made first (read only), the PDF is drawn without holding any
lock, and the new slips are recorded, the households' earlier slips revoked, in the
same transaction that stores the PDF: a print that fails changes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from consult.audit.service import Actor
from consult.jobs.models import Job
from consult.jobs.service import JobError, Output, enqueue, runner
from consult.polls.ballots import plan_ballots, store_ballots
from consult.polls.ballots_pdf import ballots_pdf
from consult.polls.errors import PollError
from consult.polls.models import STATUS_OPEN, Poll, PollGroup, PollHousehold

KIND = "slips"


def params(poll: Poll, base_url: str) -> dict:
    return {"poll_id": poll.id, "base_url": base_url}


def households(session: Session, poll: Poll) -> int:
    return session.scalar(select(func.count()).select_from(PollHousehold).where(PollHousehold.poll_id == poll.id)) or 0


def queue_print(session: Session, poll: Poll, base_url: str, *, user_id: int, user_name: str):
    """The slips of a whole ward as a background job (the page shows its progress)."""
    if poll.status != STATUS_OPEN:
        raise PollError("Chỉ in phiếu khi cuộc biểu quyết đang mở.")
    return enqueue(session, commune_id=poll.commune_id, kind=KIND, title=f"In phiếu: {poll.title}",
                   params=params(poll, base_url), user_id=user_id, user_name=user_name,
                   total=households(session, poll))


@runner(KIND)
def print_slips(session, reader, job: Job, progress) -> Output:
    poll = reader.get(Poll, job.params["poll_id"], options=[
        selectinload(Poll.choices), selectinload(Poll.groups).selectinload(PollGroup.group)])
    if poll is None or poll.commune_id != job.commune_id:
        raise JobError("Không còn cuộc biểu quyết này.")
    try:
        issued = plan_ballots(reader, poll)
    except PollError as exc:
        raise JobError(str(exc)) from None
    groups = {g.group_id: g.group.full_name for g in poll.groups}
    poll.commune, poll.group  # loaded before the read transaction ends  # noqa: B018
    reader.commit()
    progress(0, len(issued))
    data = ballots_pdf(poll, issued, job.params["base_url"], groups, progress=progress)
    try:
        store_ballots(session, Actor(job.created_by_id, job.created_by, None), session.get(Poll, poll.id), issued)
    except PollError as exc:
        raise JobError(str(exc)) from None
    return Output(data, f"phieu-bieu-quyet-{poll.id}.pdf", "application/pdf")


# --- the count of an online vote, as a job ---------------------------------------------------------
#
# Proving, checking and decrypting 100,000 ballots takes minutes of both cores; inside the board's
# POST it would pass the server's timeout. Above ``COUNT_INLINE_MAX`` ballots the count is a job,
# which streams the box (``ballots.count_phase``) and tells its progress after each chunk.
# The board's key shares must reach the runner without ever lying in the database in clear (the
# job's row is read by whoever reads the database): the page seals them with PyNaCl's SecretBox
# under a key derived from the application's secret key (outside the database) and a random salt,
# and they are erased from the row in the transaction that ends the job, done or failed.

COUNT_KIND = "count"


def _shares_box(secret: bytes, salt: bytes):
    import hashlib
    import hmac

    import nacl.secret

    key = hmac.new(secret, b"consult/count-shares/v1/" + salt, hashlib.sha256).digest()
    return nacl.secret.SecretBox(key)


def _secret(app) -> bytes:
    secret = app.config["SECRET_KEY"]
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def ballots_to_count(session: Session, poll: Poll) -> int:
    from consult.polls.models import PHASE_VOTE, CastBallot

    return session.scalar(select(func.count()).select_from(CastBallot).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE)) or 0


def queue_count(session: Session, app, poll: Poll, *, shares: list[str], early_stop_reason: str | None,
                user_id: int, user_name: str, now=None):
    """The count, after the vote's end, as a background job; first the checks the count makes
    (the vote may be closed now; the shares rebuild the vote's key), so that a mistyped share is
    told at once. An early stop (rare, and needing its reason) is counted in the request: until
    the count is written ballots are still accepted, which only the write transaction excludes."""
    import base64
    import json
    import secrets

    from consult.polls.ballots import _rebuild_key
    from consult.polls.service import check_close
    from consult.timeutil import utcnow

    now = now or utcnow()
    check_close(poll, early_stop_reason, now)
    if now < poll.closes_at:
        raise PollError("Chỉ kiểm phiếu bằng việc nền sau thời điểm kết thúc.")  # an early stop is counted inline
    _rebuild_key(poll, shares)
    salt = secrets.token_bytes(16)
    sealed = _shares_box(_secret(app), salt).encrypt(json.dumps([s for s in shares if (s or "").strip()]).encode())
    return enqueue(session, commune_id=poll.commune_id, kind=COUNT_KIND, title=f"Kiểm phiếu: {poll.title}"[:300],
                   params={"poll_id": poll.id, "asked_at": now.isoformat(),
                           "sealed_salt": base64.b64encode(salt).decode(),
                           "sealed_shares": base64.b64encode(bytes(sealed)).decode()},
                   user_id=user_id, user_name=user_name, total=ballots_to_count(session, poll))


@runner(COUNT_KIND)
def count_online(session, reader, job: Job, progress) -> Output:
    import base64
    import json
    from datetime import datetime

    import nacl.exceptions
    from flask import current_app

    from consult.polls import service
    from consult.polls.ballots import _rebuild_key, count_phase
    from consult.polls.models import PHASE_VOTE

    params = dict(job.params)  # the sealed ones are erased from the row when the job ends (jobs.service)
    try:
        opened = _shares_box(_secret(current_app), base64.b64decode(params["sealed_salt"])).decrypt(
            base64.b64decode(params["sealed_shares"]))
    except (KeyError, ValueError, nacl.exceptions.CryptoError):
        raise JobError("Không đọc được mã khóa đã nhập; hãy nhập lại để kiểm phiếu.") from None
    shares = json.loads(opened)
    asked_at = datetime.fromisoformat(params["asked_at"])
    progress(0, job.total)
    # The vote has ended (only then is the count a job): no ballot can be added, so the count is
    # made on the reader, holding no write lock for its minutes, and only its result is written.
    counting = reader.get(Poll, params["poll_id"])
    if counting is None or counting.commune_id != job.commune_id:
        raise JobError("Không còn cuộc biểu quyết này.")
    try:
        service.check_close(counting, None, asked_at)
        counted = count_phase(reader, counting, PHASE_VOTE, _rebuild_key(counting, shares), progress=progress)
        reader.commit()
        poll = session.get(Poll, counting.id)
        service.close_poll(session, Actor(job.created_by_id, job.created_by, None), poll, shares=shares,
                           now=asked_at, counted=counted)
    except PollError as exc:
        raise JobError(str(exc)) from None
    return Output(f"Đã kiểm {counted.record['checked']['ballots']} phiếu: {poll.outcome_text}".encode(),
                  f"kiem-phieu-{poll.id}.txt", "text/plain; charset=utf-8")


CEREMONY_CHECK_KIND = "ceremony_check"


def queue_ceremony_check(session: Session, poll: Poll, *, user_id: int, user_name: str, now=None):
    """A large vote keyed by the board's ceremony, after its end: its box checked and summed by
    a background job (no key is needed, so the job holds no secret at all); the members then
    decrypt their parts on their own pages. The checks the job will make are made first."""
    from consult.polls import keyceremony
    from consult.polls.models import PHASE_VOTE
    from consult.timeutil import utcnow

    now = now or utcnow()
    if poll.phase != PHASE_VOTE:
        raise PollError("Chỉ kiểm phiếu bằng việc nền cho vòng biểu quyết, sau thời điểm kết thúc.")
    keyceremony.ready_to_check(session, poll, PHASE_VOTE, now)
    return enqueue(session, commune_id=poll.commune_id, kind=CEREMONY_CHECK_KIND,
                   title=f"Kiểm phiếu (không cần khóa): {poll.title}"[:300],
                   params={"poll_id": poll.id, "asked_at": now.isoformat()}, user_id=user_id, user_name=user_name,
                   total=ballots_to_count(session, poll))


@runner(CEREMONY_CHECK_KIND)
def check_ceremony_box(session, reader, job: Job, progress) -> Output:
    from datetime import datetime

    from consult.polls import keyceremony
    from consult.polls.models import PHASE_VOTE

    asked_at = datetime.fromisoformat(job.params["asked_at"])
    progress(0, job.total)
    # After the vote's end no ballot can be added: the box is checked on the reader, holding no
    # write lock for its minutes, and only the sums are written.
    checking = reader.get(Poll, job.params["poll_id"])
    if checking is None or checking.commune_id != job.commune_id:
        raise JobError("Không còn cuộc biểu quyết này.")
    try:
        keyceremony.ready_to_check(reader, checking, PHASE_VOTE, asked_at)
        checked, texts = keyceremony.check_phase(reader, checking, PHASE_VOTE, progress=progress)
        reader.commit()
        poll = session.get(Poll, checking.id)
        keyceremony.ready_to_check(session, poll, PHASE_VOTE, asked_at)
        keyceremony.keep_check(session, poll, PHASE_VOTE, checked, texts, asked_at)
    except PollError as exc:
        raise JobError(str(exc)) from None
    return Output(f"Đã kiểm {checked['checked']['ballots']} phiếu, không cần khóa. Mỗi thành viên Tổ lấy ý kiến mở "
                  "trang «Lễ tạo khóa» để giải mã phần của mình.".encode(), f"kiem-phieu-{poll.id}.txt",
                  "text/plain; charset=utf-8")
