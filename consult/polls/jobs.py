"""Slips for a whole ward, printed as a background job (consult/jobs): the page shows a
progress bar, and no web request runs longer than a moment.

The links and codes are made first (read only), the PDF is drawn without holding any
lock, and the new slips are recorded, the households' earlier slips revoked, in the
same transaction that stores the PDF: a print that fails changes nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import selectinload

from consult.audit.service import Actor
from consult.jobs.models import Job
from consult.jobs.service import JobError, Output, runner
from consult.polls.ballots import plan_ballots, store_ballots
from consult.polls.ballots_pdf import ballots_pdf
from consult.polls.errors import PollError
from consult.polls.models import Poll, PollGroup

KIND = "slips"


def params(poll: Poll, base_url: str) -> dict:
    return {"poll_id": poll.id, "base_url": base_url}


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
