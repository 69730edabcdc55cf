"""Residents' proposals (Luật Điều 16): the public list, page and forms; the pages where the
group head (or the commune's staff) opens or refuses a proposal, checks supports against the
register, records a signed paper list and links the vote it was put to."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from consult.access import current_actor, get_scoped, staff_required, visible
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER
from consult.communes.service import list_groups
from consult.consultations.views import public_commune
from consult.db import db_session
from consult.paging import int_key
from consult.pages import act
from consult.opinions.limits import public_post_limits
from consult.polls.models import MATTER_KINDS, STATUS_DRAFT as POLL_DRAFT
from consult.polls.models import STATUS_LABELS as POLL_LABELS
from consult.proposals import service
from consult.proposals.forms import (ConfirmForm, LinkPollForm, OpenForm, PaperForm, ProposalForm, RefuseForm,
                                     SupportForm)
from consult.proposals.models import CHANNELS, Proposal, ProposalSupport

bp = Blueprint("proposals", __name__)
RUNNERS = (ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD)
# Proposals on one page of a list, newest first.
PAGE_SIZE = 50


def _cursors() -> dict[str, int | None]:
    """A list's place by key (``paging``): ?after=<id> or ?before=<id>; an old ?page=N is the first page."""
    return {"after": int_key(request.args, "after"), "before": int_key(request.args, "before")}



# --- residents --------------------------------------------------------------------------------

def _public_proposal(slug: str, proposal_id: int):
    commune = public_commune(slug)
    proposal = db_session().get(Proposal, proposal_id)
    if proposal is None or proposal.commune_id != commune.id or not service.is_public(proposal):
        abort(404)
    return commune, proposal


@bp.route("/c/<slug>/proposals/")
def public_index(slug: str):
    commune = public_commune(slug)
    s = db_session()
    page = service.proposals_page(s, service.public_where(commune.id), size=PAGE_SIZE, **_cursors())
    return render_template("proposals/public_index.html", commune=commune, proposals=page,
                           standings=service.standings(s, page.rows), kinds=MATTER_KINDS,
                           params={"slug": commune.slug})


@bp.route("/c/<slug>/proposals/new", methods=["GET", "POST"])
@public_post_limits
def public_new(slug: str):
    commune = public_commune(slug)
    s = db_session()
    form = ProposalForm()
    form.group_id.choices = [(0, "— chọn khu phố, thôn —")] + [(g.id, g.full_name) for g in list_groups(s, commune.id)]
    if form.validate_on_submit():
        done = act(lambda: service.submit_proposal(
            s, commune, group_id=form.group_id.data, matter_kind=form.matter_kind.data, title=form.title.data,
            content=form.content.data, name=form.name.data, address=form.address.data, phone=form.phone.data),
            "Đã gửi đề xuất. Trưởng khu dân cư xem xét nội dung; khi được đưa ra lấy ý kiến ủng hộ, "
            "đề xuất sẽ có trong danh sách dưới đây.", url_for("proposals.public_index", slug=commune.slug),
            again=True)
        if done is not None:
            return done
    return render_template("proposals/public_new.html", commune=commune, form=form), \
        422 if request.method == "POST" else 200


def _public_page(commune, proposal: Proposal, form: SupportForm, status: int = 200):
    s = db_session()
    poll = proposal.poll
    return render_template("proposals/public_show.html", commune=commune, p=proposal, form=form,
                           st=service.standing(s, proposal), kinds=MATTER_KINDS, poll=poll,
                           poll_public=poll is not None and poll.status != POLL_DRAFT, poll_labels=POLL_LABELS), status


@bp.route("/c/<slug>/proposals/<int:proposal_id>")
def public_show(slug: str, proposal_id: int):
    """The proposal, its supporters count against its threshold and what became of it;
    never a supporter's name."""
    commune, proposal = _public_proposal(slug, proposal_id)
    return _public_page(commune, proposal, SupportForm())


@bp.route("/c/<slug>/proposals/<int:proposal_id>/support", methods=["POST"])
@public_post_limits
def support(slug: str, proposal_id: int):
    commune, proposal = _public_proposal(slug, proposal_id)
    form = SupportForm()
    s = db_session()
    done = act(lambda: service.add_online_support(s, proposal, name=form.name.data, address=form.address.data,
                                                  household_code=form.household_code.data),
               "Cảm ơn! Ý kiến ủng hộ của hộ đã được ghi nhận; được tính sau khi Trưởng khu dân cư đối chiếu "
               "với sổ hộ gia đình.", url_for("proposals.public_show", slug=commune.slug, proposal_id=proposal_id),
               again=True)
    return done or _public_page(commune, proposal, form, 422)


# --- the group head and the commune's staff ---------------------------------------------------------

def _show(proposal_id: int) -> str:
    return url_for("proposals.show", proposal_id=proposal_id)


def _support(proposal: Proposal, support_id: int) -> ProposalSupport:
    item = db_session().get(ProposalSupport, support_id)
    if item is None or item.proposal_id != proposal.id:
        abort(404)
    return item


@bp.route("/proposals/")
@staff_required(*RUNNERS)
def index():
    s = db_session()
    page = service.proposals_page(s, visible(current_user, Proposal), size=PAGE_SIZE, **_cursors())
    return render_template("proposals/index.html", proposals=page, standings=service.standings(s, page.rows),
                           params={})


@bp.route("/proposals/<int:proposal_id>")
@staff_required(*RUNNERS)
def show(proposal_id: int):
    proposal = get_scoped(Proposal, proposal_id)
    s = db_session()
    rows = service.supports(s, proposal)
    register = service.register_of(s, proposal)
    counted = {r.household_id for r in rows if r.household_id}
    pending = [r for r in rows if r.status == "pending"]
    return render_template(
        "proposals/show.html", p=proposal, st=service.standing(s, proposal), kinds=MATTER_KINDS, rows=rows,
        pending=pending, suggestions={r.id: service.suggest_household(register, r) for r in pending},
        register=register, unsupported=[h for h in register if h.id not in counted], channels=CHANNELS,
        polls=service.group_polls(s, proposal), poll_labels=POLL_LABELS)


@bp.route("/proposals/<int:proposal_id>/open", methods=["POST"])
@staff_required(*RUNNERS)
def open_support(proposal_id: int):
    """The head finds it a matter of Điều 15: support is open for 3 months."""
    proposal = get_scoped(Proposal, proposal_id)
    form = OpenForm()
    return act(lambda: service.open_for_support(db_session(), current_actor(), proposal,
                                                matter_kind=form.matter_kind.data),
               "Đã đưa đề xuất ra lấy ý kiến ủng hộ của các hộ gia đình trong 3 tháng.", _show(proposal_id))


@bp.route("/proposals/<int:proposal_id>/refuse", methods=["POST"])
@staff_required(*RUNNERS)
def refuse(proposal_id: int):
    proposal = get_scoped(Proposal, proposal_id)
    form = RefuseForm()
    return act(lambda: service.refuse_proposal(db_session(), current_actor(), proposal,
                                               form.reason.data),
               "Đã ghi: đề xuất không thuộc nội dung cộng đồng dân cư quyết định; lý do được công khai.", _show(proposal_id))


@bp.route("/proposals/<int:proposal_id>/supports/<int:support_id>/confirm", methods=["POST"])
@staff_required(*RUNNERS)
def confirm_support(proposal_id: int, support_id: int):
    proposal = get_scoped(Proposal, proposal_id)
    item = _support(proposal, support_id)
    form = ConfirmForm()
    return act(lambda: service.confirm_support(db_session(), current_actor(), proposal, item,
                                               form.household_code.data),
               "Đã xác nhận ý kiến ủng hộ theo sổ hộ.", _show(proposal_id))


@bp.route("/proposals/<int:proposal_id>/supports/<int:support_id>/reject", methods=["POST"])
@staff_required(*RUNNERS)
def reject_support(proposal_id: int, support_id: int):
    proposal = get_scoped(Proposal, proposal_id)
    item = _support(proposal, support_id)
    return act(lambda: service.reject_support(db_session(), current_actor(), proposal, item),
               "Đã ghi: ý kiến ủng hộ không khớp với sổ hộ, không được tính.", _show(proposal_id))


@bp.route("/proposals/<int:proposal_id>/paper", methods=["POST"])
@staff_required(*RUNNERS)
def paper(proposal_id: int):
    """Supports from a list the households signed: ticked in the register, confirmed at once."""
    proposal = get_scoped(Proposal, proposal_id)
    form = PaperForm()
    form.household_ids.choices = []
    return act(lambda: service.record_paper_supports(db_session(), current_actor(), proposal,
                                                     form.household_ids.data or []),
               "Đã ghi các hộ ủng hộ theo danh sách ký.", _show(proposal_id))


@bp.route("/proposals/<int:proposal_id>/poll", methods=["POST"])
@staff_required(*RUNNERS)
def link_poll(proposal_id: int):
    """The vote the proposal was put to: its outcome is shown with the proposal."""
    proposal = get_scoped(Proposal, proposal_id)
    form = LinkPollForm()
    form.poll_id.choices = []
    return act(lambda: service.link_poll(db_session(), current_actor(), proposal,
                                         form.poll_id.data, form.note.data),
               "Đã gắn cuộc biểu quyết; kết quả được công khai cùng đề xuất.", _show(proposal_id))
