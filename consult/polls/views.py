"""Votes: the head's and officer's pages, the household's ballot page, public results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select

from consult.access import (ALL_STAFF, current_actor, fully_signed_in, get_scoped, staff_required, visible,
                            visible_groups)
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER, User
from consult.consultations.views import public_commune
from consult.covenants import service as covenants
from consult.db import db_session, reads_first, writer_session
from consult.mail import service as mail
from consult.mail.models import STATUS_LABELS as MAIL_STATUS
from consult.mail.models import TOPICS as MAIL_TOPICS
from consult import throttle
from consult import worker
from consult.polls import jobs as slip_jobs
from consult.extensions import csrf, limiter
from consult import previews, security
from consult.polls import documents, keyceremony, keycards, limits, qrphoto, rules, service
from consult.polls import record as election_record
from consult.polls import padding
from consult.polls.ballots import MAX_OTHER_TEXT, check_other_text
from consult.pages import act, attempt, refuse_back
from consult.paging import Page, carried, slice_page
from consult.polls.ballots_pdf import ballots_pdf
from consult.auth.service import qr_svg
from consult.polls.forms import CheckInForm, LocalDayForm, PaperCountForm, PollForm, SharePickupForm, SlipForm
from consult.polls.models import (DAY_KINDS, FORM_BALLOT, FORM_MEETING, FORM_ONLINE, FORMS, MATTER_KINDS,
                                  PHASE_CONSENT, PHASE_VOTE, PROCEDURE_SUBJECTS, STATUS_DRAFT, STATUS_LABELS, STATUS_OPEN,
                                  Attendance, LocalDay, Poll, PollHousehold)
from consult.textutil import nfc
from consult.timeutil import humanize_remaining, local_date, today, utcnow

bp = Blueprint("polls", __name__)
# Households and bulletin lines on one public page; "ý kiến khác" texts (up to
# MAX_OTHER_TEXT characters each) on one page.
PUBLIC_PAGE_SIZE = 200
PUBLIC_TEXTS_PAGE_SIZE = 50
# The places of the public results page's lists, and the receipt looked for.
PUBLIC_CURSORS = ("after", "before", "tracker_after", "tracker_before", "texts_from", "receipt")
RUNNERS = (ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _show(poll: Poll) -> str:
    return url_for("polls.show", poll_id=poll.id)


# --- staff -----------------------------------------------------------------------------------

@bp.route("/polls/")
@staff_required(*RUNNERS)
def index():
    polls = list(db_session().scalars(select(Poll).where(visible(current_user, Poll)).order_by(Poll.created_at.desc())))
    return render_template("polls/index.html", polls=polls, labels=STATUS_LABELS, forms=FORMS)


@bp.route("/polls/new", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def new():
    """Tạo cuộc biểu quyết, step by step: the matter (what the law lets residents decide),
    then only the forms the law allows for it, then only that form's fields. Each step is a
    plain form (no script); a vote after a meeting that lacked the households starts at the
    third step, as a ballot on the meeting's matter."""
    form = PollForm()
    groups = visible_groups()
    form.group_ids.choices = [(g.id, g.full_name) for g in groups]
    _board_accounts(form, groups)
    after = request.args.get("after", type=int)
    meeting = get_scoped(Poll, after) if after else None
    if request.method == "GET":
        form.group_ids.data = [groups[0].id] if len(groups) == 1 else []
        form.committee[0].role.data = "Đại diện Ban công tác Mặt trận"
        form.committee[0].is_leader.data = True
    if form.validate_on_submit():
        done = _save(form, groups, None, after)
        if done:
            return done
    return _wizard(form, poll=None, meeting=meeting)


def _wizard(form: PollForm, *, poll: Poll | None, meeting: Poll | None):
    """The step the user is at: 1 the matter, 2 the form, 3 the fields of that form. The
    matter and the form come from the query (steps 1 and 2 are GET forms), from the POST
    being shown again, or from the vote being changed."""
    source = request.form if request.method == "POST" else request.args
    matter = meeting.matter_kind if meeting is not None else source.get("matter_kind") or (
        poll.matter_kind if poll is not None and "step" not in request.args else None)
    choices = rules.form_choices(matter, follows_failed_meeting=meeting is not None) if matter in MATTER_KINDS else []
    offered = {c.form for c in choices}
    kind = source.get("form_kind") or (poll.form if poll is not None and "step" not in request.args else None)
    if len(offered) == 1 and request.method == "GET":  # nothing to choose: straight to the fields
        kind = next(iter(offered))
    step = 1 if matter not in MATTER_KINDS else 2 if kind not in offered else 3
    if step == 3:
        form.matter_kind.data, form.form_kind.data = matter, kind
    status = 422 if request.method == "POST" else 200
    return render_template("polls/form.html", form=form, after=meeting.id if meeting else None, poll=poll, step=step,
                           matter=matter, kind=kind, choices=choices, kinds=MATTER_KINDS, forms=FORMS,
                           matter_rules={k: rules.matter_rule(k) for k in MATTER_KINDS},
                           several_forms=len(offered) > 1), status


def _board_accounts(form: PollForm, groups) -> None:
    """Each board member row offers the commune's active staff accounts: a member of an
    online vote's board receives their own key share on their own account."""
    communes = {g.commune_id for g in groups} or {0}
    users = db_session().scalars(select(User).where(User.commune_id.in_(communes), User.active.is_(True))
                                 .order_by(User.full_name, User.username))
    choices = [(0, "— chưa chọn —")] + [(u.id, f"{u.full_name} ({u.username}, {u.role_label})") for u in users]
    for row in form.committee:
        row.form.user_id.choices = choices


def _poll_input(form: PollForm, follows_meeting_id: int | None) -> service.PollInput:
    return service.PollInput(
        title=form.title.data, question=form.question.data, content=form.content.data or "",
        matter_kind=form.matter_kind.data, form=form.form_kind.data, opens_at=form.opens_at.data,
        closes_at=form.closes_at.data, group_ids=form.group_ids.data,
        options=(form.options.data or "").splitlines(), seats=form.seats.data or 1,
        committee=[service.CommitteeInput(r.form.name.data or "", r.form.role.data or "", r.form.is_leader.data,
                                          user_id=r.form.user_id.data or None)
                   for r in form.committee],
        chosen_by_chairman=form.chosen_by_chairman.data, chosen_by_head_and_front=form.chosen_by_head_and_front.data,
        follows_meeting_id=follows_meeting_id, agreed_unnecessary_on=form.agreed_unnecessary_on.data,
        reported_on=form.reported_on.data, devices_confirmed=form.devices_confirmed.data,
        announced_on=form.announced_on.data, place=form.place.data or "", chair=form.chair.data or "")


def _save(form: PollForm, groups, poll: Poll | None, follows_meeting_id: int | None):
    """Create or change a draft vote from the form; None (with a message) when the law refuses it."""
    if set(form.group_ids.data) - {group.id for group in groups}:  # groups: visible_groups(), the user's reach
        abort(403)
    if not groups:
        abort(404)
    return act(lambda: service.save_poll(db_session(), current_actor(), groups[0].commune, poll,
                                         _poll_input(form, follows_meeting_id)),
               "Đã lưu cuộc biểu quyết (bản nháp)." if poll is None else "Đã lưu.", _show, again=True)


@bp.route("/polls/<int:poll_id>/edit", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def edit(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    if poll.status != STATUS_DRAFT:
        flash("Chỉ sửa được cuộc biểu quyết khi còn là bản nháp.", "error")
        return redirect(url_for("polls.show", poll_id=poll.id))
    form = PollForm()
    groups = visible_groups()
    form.group_ids.choices = [(g.id, g.full_name) for g in groups]
    _board_accounts(form, groups)
    if request.method == "GET":
        _fill(form, poll)
    if form.validate_on_submit():
        done = _save(form, groups, poll, poll.follows_meeting_id)
        if done:
            return done
    meeting = get_scoped(Poll, poll.follows_meeting_id) if poll.follows_meeting_id else None
    return _wizard(form, poll=poll, meeting=meeting)


def _fill(form: PollForm, poll: Poll) -> None:
    form.title.data, form.question.data, form.content.data = poll.title, poll.question, poll.content
    form.matter_kind.data, form.form_kind.data = poll.matter_kind, poll.form
    form.group_ids.data = [g.group_id for g in poll.groups]
    form.options.data = "\n".join(c.label for c in poll.choices if c.kind in ("option", "candidate"))
    form.seats.data = poll.seats
    form.opens_at.data, form.closes_at.data = poll.opens_at, poll.closes_at
    form.chosen_by_chairman.data, form.chosen_by_head_and_front.data = poll.chosen_by_chairman, \
        poll.chosen_by_head_and_front
    form.agreed_unnecessary_on.data, form.reported_on.data = poll.agreed_unnecessary_on, poll.reported_on
    form.devices_confirmed.data = poll.devices_confirmed
    form.announced_on.data = poll.announced_on
    form.place.data, form.chair.data = poll.place or "", poll.chair or ""
    for row, member in zip(form.committee, poll.committee):
        row.form.name.data, row.form.role.data, row.form.is_leader.data = member.name, member.role, member.is_leader
        row.form.user_id.data = member.user_id or 0


@bp.route("/polls/<int:poll_id>")
@staff_required(*RUNNERS)
def show(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    result = service.tally(s, poll) if poll.status != STATUS_DRAFT else None
    consent = None
    if poll.form == FORM_ONLINE and poll.status != STATUS_DRAFT:
        consent = sum(service.turnout(s, poll, PHASE_CONSENT).values())
    households = {h.id: h for h in s.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id))}
    present = service.attendance_count(s, poll) if poll.form == FORM_MEETING else None
    board = keycards.envelopes(s, poll) if poll.form == FORM_ONLINE and poll.status != STATUS_DRAFT else {}
    my_share = next((board[m.id] for m in poll.committee if m.user_id == current_user.id and m.id in board), None)
    return render_template(
        "polls/show.html", poll=poll, result=result, labels=STATUS_LABELS, forms=FORMS, kinds=MATTER_KINDS,
        consent=consent, households=households, present=present,
        can_decide=service.meeting_can_decide(s, poll) if poll.form == FORM_MEETING and poll.status == "open" else None,
        recognition=rules.recognition(poll.matter_kind, poll.commune_wide), recognisers=rules.RECOGNISERS,
        rule_text=rules.rule_text(poll.matter_kind),
        deadline=service.report_deadline(s, poll), total=service.total_households(poll),
        recognisable=poll.status == "decided" and service.needs_recognition(poll),
        recognition_deadline=service.recognition_deadline(s, poll),
        may_recognise=current_user.role in (ROLE_ADMIN, ROLE_OFFICER),
        needed=rules.min_agree(poll.matter_kind, service.total_households(poll)),
        notice_shortfall=rules.notice_shortfall(poll.announced_on, local_date(poll.opens_at))
        if poll.form == FORM_MEETING and poll.status == STATUS_DRAFT else None,
        mails=mail.poll_mail(s, poll.id), mail_labels=MAIL_STATUS, mail_topics=MAIL_TOPICS,
        covenant=covenants.of_poll(s, poll), board=board, my_share=my_share,
        ceremony=keyceremony.status(s, poll) if poll.form == FORM_ONLINE else None,
        ceremony_possible=poll.form == FORM_ONLINE,
        vote_documents=documents.available(s, poll) if poll.status != STATUS_DRAFT else [],
        early=poll.form == FORM_ONLINE and poll.status == "open" and utcnow() < poll.closes_at)


@bp.route("/polls/<int:poll_id>/open", methods=["POST"])
@staff_required(*RUNNERS)
def open_(poll_id: int):
    """Open the vote. An online vote's key shares go each to its own board member's
    account (``keycards``); the page says who must pick up their card, and shows none."""
    poll = get_scoped(Poll, poll_id)
    done = act(lambda: service.open_poll(db_session(), current_actor(), poll),
               "Đã mở; danh sách hộ được chốt theo sổ hiện tại.", _show(poll))
    if poll.form == FORM_ONLINE and poll.public_key is not None and keyceremony.finished(db_session(), poll):
        flash("Khóa của cuộc biểu quyết do Tổ lấy ý kiến cùng tạo ở lễ tạo khóa; mỗi thành viên giữ phiếu giữ khóa "
              "đã in của mình.", "warning")
    elif poll.form == FORM_ONLINE:
        flash("Mỗi thành viên Tổ lấy ý kiến đăng nhập bằng tài khoản của mình để nhận phiếu giữ khóa: "
              + "; ".join(f"{m.name} ({m.user.username})" for m in poll.committee)
              + ". Không ai nhận thay được, kể cả người mở biểu quyết.", "warning")
    return done


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CARD_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _pickup_key() -> str:
    return f"share-pickup:{current_user.id}" if current_user.is_authenticated else throttle.address_key()


@bp.route("/polls/<int:poll_id>/my-share", methods=["GET", "POST"])
@staff_required(*ALL_STAFF)
@limiter.limit("10 per 15 minutes", key_func=_pickup_key, methods=["POST"],
               deduct_when=lambda response: response.status_code == 422)
def my_share(poll_id: int):
    """Nhận phiếu giữ khóa: a board member, signed in, types their password again; their own
    key share opens and is shown once, as a card to print. Nobody else's: another account,
    the opener's or an administrator's included, finds nothing here (404)."""
    s = db_session()
    poll = s.get(Poll, poll_id)
    envelope = keycards.envelope_of(s, poll_id, current_user) if poll is not None else None
    if envelope is None:
        abort(404)
    form = SharePickupForm()
    error, status = None, 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            card, refusal = attempt(lambda: keycards.pick_up(s, current_actor(), poll,
                                                             current_user._get_current_object(), form.password.data))
            if refusal is not None:
                error = str(refusal)
                status = 422 if getattr(refusal, "reason", None) in (keycards.WRONG_PASSWORD, keycards.WRONG_KEY) else 410
            else:
                s.commit()
                page = render_template("polls/share_card.html", card=card, qr=qr_svg(card.code))
                # The one page with a script: this site's own print button (static/js/print-card.js).
                return Response(page, headers={**NO_STORE, "Content-Security-Policy": CARD_POLICY})
    page = render_template("polls/my_share.html", poll=poll, envelope=envelope, member=envelope.member, form=form,
                           error=error)
    return Response(page, status=status, headers=NO_STORE)


def _shares(poll: Poll) -> list[str]:
    """The key shares given at the close: each member's typed code, or the code read from the
    photo of their card (``share-photo-N``) when the box is left empty."""
    typed = {key.removeprefix("share-"): value for key, value in request.form.items() if key.startswith("share-")}
    members = {str(n): m.name for n, m in enumerate(poll.committee, 1)}
    for key, upload in request.files.items():
        n = key.removeprefix("share-photo-")
        if key.startswith("share-photo-") and upload.filename and not (typed.get(n) or "").strip():
            typed[n] = qrphoto.code_from_photo(upload.read(qrphoto.MAX_PHOTO_BYTES + 1),
                                               members.get(n, "thành viên"))
    return list(typed.values())


@bp.route("/polls/<int:poll_id>/consent/close", methods=["POST"])
@staff_required(*RUNNERS)
def close_consent(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    return act(lambda: service.close_consent(db_session(), current_actor(), poll, shares=_shares(poll)),
               "Đã kết thúc và kiểm phiếu vòng lấy ý kiến đồng ý biểu quyết trực tuyến.", _show(poll))


@bp.route("/polls/<int:poll_id>/close", methods=["POST"])
@staff_required(*RUNNERS)
def close(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    if (poll.form == "online" and utcnow() >= poll.closes_at
            and slip_jobs.ballots_to_count(s, poll) > current_app.config["COUNT_INLINE_MAX"]):
        # Many ballots: counted by a background job with a progress bar (consult/polls/jobs.py).
        refuse_back(_show(poll))
        job = slip_jobs.queue_count(s, current_app, poll, shares=_shares(poll),
                                    early_stop_reason=request.form.get("early_stop_reason"),
                                    user_id=current_user.id, user_name=current_actor().name)
        s.commit()
        worker.wake(current_app)
        return redirect(url_for("jobs.show", job_id=job.id))
    return act(lambda: service.close_poll(db_session(), current_actor(), poll, shares=_shares(poll),
                                          early_stop_reason=request.form.get("early_stop_reason")),
               "Đã kết thúc và tính kết quả.", _show(poll))


def _pdf_response(poll: Poll, issued, name: str) -> Response:
    groups = {g.group_id: g.group.full_name for g in poll.groups}
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    data = ballots_pdf(poll, issued, base, groups)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@bp.route("/polls/<int:poll_id>/ballots.pdf", methods=["POST"])
@staff_required(*RUNNERS)
def ballots(poll_id: int):
    """Slips for every household that has not voted; earlier slips stop working."""
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    refuse_back(_show(poll))
    if slip_jobs.households(s, poll) > current_app.config["SLIPS_INLINE_MAX"]:
        # A whole ward: printed by a background job, with a progress bar (consult/polls/jobs.py).
        job = slip_jobs.queue_print(s, poll, current_app.config.get("PUBLIC_BASE_URL") or request.host_url,
                                    user_id=current_user.id, user_name=current_actor().name)
        s.commit()
        worker.wake(current_app)
        return redirect(url_for("jobs.show", job_id=job.id))
    issued = service.issue_ballots(s, current_actor(), poll)
    response = _pdf_response(poll, issued, f"phieu-bieu-quyet-{poll.id}.pdf")
    db_session().commit()
    return response


@bp.route("/polls/<int:poll_id>/households/<int:poll_household_id>/reprint", methods=["POST"])
@staff_required(*RUNNERS)
def reprint(poll_id: int, poll_household_id: int):
    """A lost slip: a new one, and the old token is revoked."""
    poll = get_scoped(Poll, poll_id)
    household = db_session().get(PollHousehold, poll_household_id)
    if household is None or household.poll_id != poll.id:
        abort(404)
    refuse_back(_show(poll))
    issued = service.issue_ballots(db_session(), current_actor(), poll, household_ids=[household.id])
    response = _pdf_response(poll, issued, f"phieu-{household.code}.pdf")
    db_session().commit()
    return response


@bp.route("/polls/<int:poll_id>/slips", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def slips(poll_id: int):
    """The Tổ phát phiếu records the stubs of returned slips (turnout), then the
    biên bản kiểm phiếu of each group's box (totals only)."""
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    form = SlipForm(prefix="stub")
    count_form = PaperCountForm(prefix="count")
    count_form.group_id.choices = [(g.group_id, g.group.full_name) for g in poll.groups]
    if request.method == "POST" and request.form.get("action") == "count":
        if count_form.validate_on_submit():
            def record_count():
                counts = {c.id: _count(request.form.get(f"choice-{c.id}"), "Các số phiếu phải là số nguyên không âm.")
                          for c in poll.choices}
                service.record_paper_count(s, current_actor(), poll, service.PaperCountInput(
                    group_id=count_form.group_id.data, issued=count_form.issued.data,
                    returned=count_form.returned.data, valid=count_form.valid.data, invalid=count_form.invalid.data,
                    counts=counts, other_texts=(count_form.other_texts.data or "").splitlines(),
                    place=count_form.place.data, counters=count_form.counters.data,
                    witnesses=count_form.witnesses.data))

            done = act(record_count, "Đã ghi biên bản kiểm phiếu.", url_for("polls.slips", poll_id=poll.id),
                       again=True)
            if done:
                return done
    elif form.validate_on_submit():
        found, refusal = attempt(lambda: service.record_stub(s, current_actor(), poll,
                                                             token_value=request.form.get("token") or None,
                                                             code=form.code.data))
        if refusal is not None:
            flash(str(refusal), "error")
        else:
            household, new = found
            s.commit()
            flash(f"Đã ghi cuống phiếu của hộ {household.code}." if new
                  else f"Cuống phiếu của hộ {household.code} đã được ghi trước đó.", "success" if new else "error")
            return redirect(url_for("polls.slips", poll_id=poll.id))
    return render_template("polls/slips.html", poll=poll, form=form, count_form=count_form,
                           stubs=service.stubs_recorded(s, poll), counted=service.paper_counts(s, poll),
                           result=service.tally(s, poll))


@bp.route("/polls/<int:poll_id>/meeting", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def meeting(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    form = CheckInForm()
    if form.validate_on_submit():
        def record() -> str:
            if request.form.get("action") == "procedure":
                service.record_procedure(s, current_actor(), poll, subject=request.form.get("subject", ""),
                                         proposal=request.form.get("proposal", ""),
                                         agree=_count(request.form.get("agree")))
                return "Đã ghi kết quả biểu quyết thủ tục."
            if request.form.get("action") == "count":
                counts = {c.id: _count(request.form.get(f"count-{c.id}")) for c in poll.choices}
                group_id = request.form.get("group_id")
                method = request.form.get("method", "")
                box = ({"returned": _count(request.form.get("returned")),
                        "invalid": _count(request.form.get("invalid"))} if method == "secret" else {})
                service.record_meeting_count(s, current_actor(), poll, counts=counts, method=method,
                                             cluster=form.cluster.data or "",
                                             group_id=_count(group_id) if group_id else None, **box)
                return "Đã ghi kết quả biểu quyết."
            household = service.check_in(s, current_actor(), poll, poll_household_id=form.household_id.data,
                                         code=form.code.data or None, cluster=form.cluster.data or "")
            return f"Đã điểm danh hộ {household.code}."

        return act(record, lambda message: message, url_for("polls.meeting", poll_id=poll.id),
                   refused_to=_show(poll))
    present = set(s.scalars(select(Attendance.poll_household_id).where(Attendance.poll_id == poll.id)))
    households = list(s.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)
                                .order_by(PollHousehold.code)))
    return render_template("polls/meeting.html", poll=poll, form=form, households=households, present=present,
                           procedures=service.procedures(s, poll), subjects=PROCEDURE_SUBJECTS,
                           total=service.total_households(poll),
                           can_decide=service.meeting_can_decide(s, poll) if poll.status == "open" else None,
                           needed=rules.min_agree(poll.matter_kind, service.total_households(poll)))


@bp.route("/polls/<int:poll_id>/sent", methods=["POST"])
@staff_required(*RUNNERS)
def sent(poll_id: int):
    """The decision was sent to the commune's UBND and MTTQ."""
    from consult.timeutil import parse_local_date

    poll = get_scoped(Poll, poll_id)
    refuse_back(_show(poll))
    day = _day(parse_local_date, request.form.get("sent_on", ""))
    return act(lambda: service.mark_sent(db_session(), current_actor(), poll, day),
               "Đã ghi ngày gửi quyết định.", _show(poll))


@bp.route("/polls/<int:poll_id>/recognition", methods=["POST"])
@staff_required(ROLE_ADMIN, ROLE_OFFICER)
def recognition(poll_id: int):
    """The commune's side (Điều 21 khoản 2): the day the decision was received, then its
    recognition (quyết định công nhận) or a refusal with reasons."""
    from consult.timeutil import parse_local_date

    poll = get_scoped(Poll, poll_id)
    action = request.form.get("action")
    s, actor = db_session(), current_actor()
    refuse_back(_show(poll))
    if action == "refuse":
        run = lambda: service.refuse_recognition(s, actor, poll, reason=request.form.get("reason", ""))  # noqa: E731
    else:
        day = _day(parse_local_date, request.form.get("day", ""))
        if action == "received":
            run = lambda: service.record_received(s, actor, poll, day)  # noqa: E731
        else:
            run = lambda: service.recognise(s, actor, poll, number=request.form.get("number", ""), on=day)  # noqa: E731
    return act(run, "Đã ghi.", _show(poll))


def _count(value: str | None, message: str = "Số phiếu phải là số nguyên không âm.") -> int:
    """A number typed on a form (empty is 0); anything else is refused with ``message``."""
    try:
        return int(value or 0)
    except ValueError:
        raise service.PollError(message) from None


def _day(parse, value: str):
    """A day typed on a form; one that cannot be read is refused with the parser's words."""
    try:
        return parse(value)
    except ValueError as exc:
        raise service.PollError(str(exc)) from None


@bp.route("/polls/<int:poll_id>/follow-up", methods=["POST"])
@staff_required(*RUNNERS)
def follow_up(poll_id: int):
    """After a meeting without enough households: paper ballots on the same matter."""
    poll = get_scoped(Poll, poll_id)
    return redirect(url_for("polls.new", after=poll.id))


@bp.route("/polls/<int:poll_id>/<any(decision, minutes, consent, synthesis):doc>.<any(docx, pdf):ext>")
@bp.route("/polls/<int:poll_id>/groups/<int:group_id>/<any(decision):doc>.<any(docx, pdf):ext>")
@staff_required(*RUNNERS)
def document(poll_id: int, doc: str, ext: str, group_id: int | None = None):
    """One of the vote's documents (``documents.available``) as .docx, or laid out as PDF to check
    before printing: a vote of several groups has one decision per community (its group_id)."""
    poll = get_scoped(Poll, poll_id)
    if poll.status == STATUS_DRAFT:
        abort(404)
    try:
        data = documents.render(db_session(), poll, doc, group_id)
    except documents.NoSuchDocument:
        abort(404)
    name = documents.filename(poll, doc, group_id, ext)
    if ext == "docx":
        return Response(data, mimetype=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
    return _pdf_or_back(poll, data, name)


def _pdf_or_back(poll: Poll, data: bytes, name: str):
    """The document laid out as PDF, made in the background once per content (consult.previews);
    the waiting page leads back to the vote's page (and says why, when LibreOffice is missing)."""
    return previews.respond(db_session(), commune_id=poll.commune_id, document=data, name=name,
                            title=f"Tài liệu của cuộc biểu quyết: {poll.title}", back=_show(poll))


@bp.route("/polls/<int:poll_id>/recognition/<any(decision, refusal):doc>.<any(docx, pdf):ext>")
@staff_required(ROLE_ADMIN, ROLE_OFFICER)
def recognition_document(poll_id: int, doc: str, ext: str):
    """The commune's quyết định công nhận, or its letter of refusal with the reasons (Luật Điều 21
    khoản 2), once recorded; as .docx, or laid out as PDF to check before printing."""
    from consult.polls import recognition as answers

    poll = get_scoped(Poll, poll_id)
    try:
        data = (answers.recognition_docx if doc == "decision" else answers.refusal_docx)(db_session(), poll)
    except answers.NotAvailable:
        abort(404)
    name = f"{'quyet-dinh-cong-nhan' if doc == 'decision' else 'cong-van-khong-cong-nhan'}-bieu-quyet-{poll.id}.{ext}"
    if ext == "docx":
        return Response(data, mimetype=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
    return _pdf_or_back(poll, data, name)


@bp.route("/polls/holidays", methods=["GET", "POST"])
@staff_required(ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD)
def holidays():
    """The working-day calendar: national holidays (read only) and the commune's own
    days, which only the commune's administrator adds or removes."""
    s = db_session()
    commune_id = current_user.commune_id
    if commune_id is None:
        abort(404)
    form = LocalDayForm()
    may_edit = current_user.role == ROLE_ADMIN
    if may_edit and form.validate_on_submit():
        done = act(lambda: service.add_local_day(s, current_actor(), commune_id, form.day.data, form.name.data,
                                                 form.kind.data),
                   "Đã thêm vào lịch của xã, phường.", url_for("polls.holidays"), again=True)
        if done:
            return done
    year = today().year
    national = sorted(list(service.national_holidays(range(year, year + 2)).items())
                      + [(day, "Ngày làm việc bù (thứ Bảy, Chủ nhật đi làm)")
                         for day in service.national_workdays(range(year, year + 2))])
    local = list(s.scalars(select(LocalDay).where(LocalDay.commune_id == commune_id).order_by(LocalDay.day.desc())))
    return render_template("polls/holidays.html", form=form, national=national, local=local, may_edit=may_edit,
                           kinds=DAY_KINDS)


@bp.route("/polls/holidays/<int:local_day_id>/delete", methods=["POST"])
@staff_required(ROLE_ADMIN)
def delete_local_day(local_day_id: int):
    entry = db_session().get(LocalDay, local_day_id)
    if entry is None or entry.commune_id != current_user.commune_id:
        abort(404)
    service.remove_local_day(db_session(), current_actor(), entry)
    db_session().commit()
    flash("Đã xóa khỏi lịch của xã, phường.", "success")
    return redirect(url_for("polls.holidays"))


# --- the household's ballot -----------------------------------------------------------------------

BALLOT_PAGES = ("polls.ballot", "polls.ballot_code")


@bp.before_request
def _find_ballot_token():
    """A ballot page's live token (the link's, or the code typed), looked up once, before the
    limits that read it (consult/polls/limits.py) and the page that answers with it:
    ``g.ballot_token`` (None when there is none) and ``g.ballot_error``, the refusal's words."""
    if request.endpoint not in BALLOT_PAGES:
        return
    token = (request.view_args or {}).get("token")
    code = request.form.get("code") if request.method == "POST" and not token else None
    g.ballot_token, g.ballot_error = None, None
    if token or code:
        try:
            g.ballot_token = service.find_token(db_session(), token=token, code=code)
        except service.BallotRejected as exc:
            g.ballot_error = str(exc)


def _staff_can_record(poll: Poll) -> bool:
    if not fully_signed_in() or current_user.role not in RUNNERS:
        return False
    return db_session().scalar(select(Poll.id).where(Poll.id == poll.id, visible(current_user, Poll))) is not None


@bp.route("/b/", methods=["GET", "POST"])
@limits.ballot_limits(["POST"])
@reads_first
def ballot_code():
    """Type the code printed under the QR code."""
    form = SlipForm()
    if form.validate_on_submit() and form.code.data:
        token = g.ballot_token
        if token is None:
            return render_template("polls/ballot_code.html", form=form, error=g.ballot_error), 404
        return _ballot_page(token, code=form.code.data)
    return render_template("polls/ballot_code.html", form=form, error=None)


CROSS_SITE = "Phiếu chỉ được gửi từ trang phiếu biểu quyết của hệ thống; hãy mở lại đường dẫn trên phiếu."


# The link's token is the household's credential: a page elsewhere cannot post a ballot
# without it, so the household's own steps carry no session CSRF token (and no session
# cookie), and a post the browser marks as cross-site is refused. The staff's steps on the
# same page act on a signed-in session and check the session's CSRF token
# (``_ballot_page``).
@bp.route("/b/<token>", methods=["GET", "POST"])
@csrf.exempt
@limits.ballot_limits(None)
@reads_first
def ballot(token: str):
    row = g.ballot_token
    if row is None:
        return render_template("polls/ballot_error.html", error=g.ballot_error), 404
    return _ballot_page(row, token=token)


def _ballot_page(row, *, token: str | None = None, code: str | None = None):
    s = db_session()
    view = service.ballot_view(row)
    poll = view.poll
    staff_recording = poll.form == FORM_BALLOT and _staff_can_record(poll)
    step = request.form.get("step") if request.method == "POST" else None
    if step in ("stub", "checkin"):
        csrf.protect()
    elif request.method == "POST" and security.cross_site_post():
        return render_template("polls/ballot_error.html", error=CROSS_SITE), 403
    if step == "stub" and staff_recording:
        # The Tổ phát phiếu scans a returned slip's stub: the household took part.
        w = writer_session()
        refuse_back(_show(poll))
        household, new = service.record_stub(w, current_actor(), w.get(Poll, poll.id), token_value=token, code=code)
        w.commit()
        flash(f"Đã ghi cuống phiếu của hộ {household.code}." if new
              else f"Cuống phiếu của hộ {household.code} đã được ghi trước đó.", "success" if new else "error")
        return redirect(url_for("polls.slips", poll_id=poll.id))
    if step == "checkin" and poll.form == FORM_MEETING and _staff_can_record(poll):
        # The head scans a slip at the door of the meeting.
        w = writer_session()
        refuse_back(_show(poll))
        household = service.check_in(w, current_actor(), w.get(Poll, poll.id), token_value=token, code=code,
                                     cluster=request.form.get("cluster", ""))
        w.commit()
        flash(f"Đã điểm danh hộ {household.code}.", "success")
        return redirect(url_for("polls.meeting", poll_id=poll.id))
    choice = request.form.get("choice")
    other = request.form.get("other_text", "")
    error = None
    if step in ("review", "confirm"):
        chosen = next((c for c in view.choices if str(c[0]) == str(choice)), None)
        if chosen is None:
            error = "Hãy chọn một phương án." if not choice else "Lựa chọn không thuộc cuộc biểu quyết này."
        else:
            try:
                # The text as it will be sealed, checked before it is shown back.
                other = check_other_text(chosen[2], other)
            except service.PollError as exc:
                error = str(exc)
        if error is None and step == "review":
            shown, inputs = _choice_parts(chosen, other)
            page = render_template("polls/ballot_confirm.html", view=view, shown=shown, inputs=inputs, token=token,
                                   code=code, staff_recording=staff_recording)
            return padding.pad(page, (shown, inputs), _choice_room(view))
        if error is None:
            # Read and encrypt first, then the write lock for two inserts only (db.reads_first).
            w = writer_session()

            def cast():
                prepared = service.prepare_ballot(row, choice, other_text=other)
                # Sealed for this slip before the write lock (its KDF is not quick).
                sealed = service.seal_receipt(prepared, token=token, code=None if token else code)
                if w is not s:
                    s.commit()  # the read transaction ends; nothing was written (the pages keep their objects)
                return service.record_ballot(w, prepared, sealed_receipt=sealed)

            receipt, refusal = attempt(cast)
            if isinstance(refusal, service.AlreadyVoted):
                return render_template("polls/ballot_error.html", error=str(refusal), already=True), 409
            if refusal is not None:
                return render_template("polls/ballot_error.html", error=str(refusal)), 410
            w.commit()
            return render_template("polls/ballot_done.html", view=view, receipt=receipt)
    # A refused step gives the household its choice and text back, to shorten or correct
    # (a text refused as too long is not lost); both are padded below with the message.
    kept_choice = str(choice) if error and any(str(c[0]) == str(choice) for c in view.choices) else None
    kept_text = nfc(request.form.get("other_text", ""))[:KEPT_TEXT_MAX] if error else None
    reopened = service.open_receipt(row, token=token, code=code) if view.voted_on else None
    page = render_template("polls/ballot.html", view=view, token=token, code=code, error=error, reopened=reopened,
                           kept_choice=kept_choice, kept_text=kept_text,
                           staff_recording=staff_recording, now=utcnow(),
                           staff_checkin=poll.form == FORM_MEETING and _staff_can_record(poll),
                           fingerprint=(service.key_fingerprint(poll.public_key, poll.texts_key)
                                        if poll.form == FORM_ONLINE and poll.public_key and poll.texts_key else None))
    if error is None:
        return page
    # Which mistake was made (no choice, an empty or too long text), which choice was made and
    # how long the text was are not told by the size either.
    fragments = (escape(error), " checked" if kept_choice else "", escape(kept_text or ""))
    return padding.pad(page, fragments, ERROR_ROOM), 422


# The text given back on a refused step: up to twice what a ballot may hold, so that a text
# refused as too long comes back whole enough to shorten.
KEPT_TEXT_MAX = 2 * MAX_OTHER_TEXT
# Bytes kept for a refused step's message (the longest is under a hundred), the " checked" of
# the choice given back and the text given back, escaped at its widest.
ERROR_ROOM = 200 + len(" checked") + padding.size((escape(padding.longest_text(KEPT_TEXT_MAX)),))
# The longest the choice's parts of the review page can be, by the vote's choices (fixed once
# the vote is open, and the key itself: no invalidation to get wrong).
_CHOICE_ROOM: dict[tuple, int] = {}


def _choice_parts(chosen, other: str):
    """The review page's parts that depend on the choice (templates/polls/_ballot_choice.html)."""
    parts = current_app.jinja_env.get_template("polls/_ballot_choice.html").module
    return parts.shown(chosen, other), parts.inputs(chosen, other)


def _choice_room(view) -> int:
    """Bytes the choice's parts take at most for this vote: each choice, with the longest
    escaped "ý kiến khác" for the one that takes a text."""
    key = tuple(view.choices)
    room = _CHOICE_ROOM.get(key)
    if room is None:
        widest = padding.longest_text(MAX_OTHER_TEXT)
        room = max(padding.size(_choice_parts(c, widest if c[2] == "other" else "")) for c in view.choices)
        if len(_CHOICE_ROOM) >= 512:
            _CHOICE_ROOM.clear()
        _CHOICE_ROOM[key] = room
    return room


# --- public results ---------------------------------------------------------------------------

@bp.route("/c/<slug>/polls/")
def public_index(slug: str):
    commune = public_commune(slug)
    polls = list(db_session().scalars(select(Poll).where(Poll.commune_id == commune.id, Poll.status != STATUS_DRAFT)
                                      .order_by(Poll.opens_at.desc())))
    return render_template("polls/public_index.html", commune=commune, polls=polls, labels=STATUS_LABELS)


@bp.route("/c/<slug>/polls/<int:poll_id>/record.json")
def public_record(slug: str, poll_id: int):
    """The vote's election record (every ballot's ciphertexts, proofs and tracker, each
    group's sum and its proven decryption, the result), for ``python -m consult.verify``."""
    commune = public_commune(slug)
    s = db_session()
    poll = s.get(Poll, poll_id)
    phase = request.args.get("phase", PHASE_VOTE)
    if (poll is None or poll.commune_id != commune.id or phase not in (PHASE_VOTE, PHASE_CONSENT)
            or not election_record.record_available(s, poll, phase)):
        abort(404)
    name = f"ho-so-bieu-quyet-{poll.id}{'-dong-y' if phase == PHASE_CONSENT else ''}.json"
    return Response(stream_with_context(election_record.election_record(s, poll, phase)),
                    mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _key_arg(name: str) -> str | None:
    """A list's key from the query (a household's code, a tracker), bounded in length."""
    value = request.args.get(name, "").strip()
    return value[:64] or None


@dataclass(frozen=True)
class UnderWay:
    """An open vote as its public page shows it: until when, and how many households took part."""

    phase: str  # "consent" (the round that asks whether to vote online) or "vote"
    ends_at: datetime
    remaining: str
    took_part: int
    households: int

    @property
    def share(self) -> str:
        if not self.households:
            return "0%"
        return f"{self.took_part * 100 / self.households:.1f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


def _under_way(session, poll: Poll) -> UnderWay | None:
    if poll.status != STATUS_OPEN:
        return None
    now = utcnow()
    consent = poll.form == FORM_ONLINE and poll.phase == PHASE_CONSENT
    ends_at = poll.consent_closes_at if consent and poll.consent_closes_at else poll.closes_at
    if poll.form == FORM_MEETING:
        took_part = service.attendance_count(session, poll)
    else:
        took_part = sum(service.turnout(session, poll, PHASE_CONSENT if consent else PHASE_VOTE).values())
    return UnderWay("consent" if consent else "vote", ends_at, humanize_remaining(ends_at - now), took_part,
                    service.total_households(poll))


@bp.route("/c/<slug>/polls/<int:poll_id>")
def public_show(slug: str, poll_id: int):
    """Results with a chart, the households that took part, and a receipt check;
    never any household's choice."""
    commune = public_commune(slug)
    poll = db_session().get(Poll, poll_id)
    if poll is None or poll.commune_id != commune.id or poll.status == STATUS_DRAFT:
        abort(404)
    s = db_session()
    args = request.args
    receipt = args.get("receipt", "").strip()[:40]
    found_tracker = service.receipt_tracker(s, poll, receipt) if receipt else None
    found = (found_tracker is not None) if receipt else None
    result = service.final_tally(s, poll) if poll.status in ("closed", "decided") else None
    # Long lists a page at a time by key (``paging``), so the page stays light at any size
    # of vote; an old ?page=N shows the first page.
    participants = (service.participants_page(s, poll, after=_key_arg("after"), before=_key_arg("before"),
                                              size=PUBLIC_PAGE_SIZE) if result else Page([]))
    at = None if _key_arg("tracker_after") or _key_arg("tracker_before") else found_tracker
    bulletin = (service.bulletin_page(s, poll, after=_key_arg("tracker_after"), before=_key_arg("tracker_before"),
                                      at=at, size=PUBLIC_PAGE_SIZE)
                if result and poll.form == FORM_ONLINE else Page([]))
    texts = slice_page(result.other_texts if result else [], start=args.get("texts_from", 0, type=int) or 0,
                       size=PUBLIC_TEXTS_PAGE_SIZE)
    base = {"slug": commune.slug, "poll_id": poll.id}
    links = {name: dict(base, **carried(args, PUBLIC_CURSORS, drop=own))
             for name, own in (("participants", ("after", "before")), ("texts", ("texts_from",)),
                               ("bulletin", ("tracker_after", "tracker_before", "receipt")))}
    return render_template("polls/public_show.html", commune=commune, poll=poll, result=result,
                           under_way=_under_way(s, poll), rule_text=rules.rule_text(poll.matter_kind),
                           participants=participants, receipt=receipt, bulletin=bulletin, texts=texts,
                           links=links, found=found, found_tracker=found_tracker, labels=STATUS_LABELS, forms=FORMS,
                           kinds=MATTER_KINDS, recognition=rules.recognition(poll.matter_kind, poll.commune_wide),
                           record=election_record.record_available(s, poll) if result else False,
                           consent_record=election_record.record_available(s, poll, PHASE_CONSENT),
                           fingerprint=(service.key_fingerprint(poll.public_key, poll.texts_key)
                                        if poll.public_key else None))
