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
