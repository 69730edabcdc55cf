"""The board's key ceremony and the count without the key, on the web (``keyceremony``).

* ``/polls/<id>/ceremony``: each member's own page, signed in with their own account. Its
  script (``static/js/ceremony-page.js``, on ``ceremony-device.js`` and the vendored @noble
  libraries) is the member's device: it draws the member's secret, keeps it in this browser's
  storage and on the printed card, and sends only public values to the JSON steps below. The
  server cannot do a member's step: without script the page says so and shows the progress.
* ``state.json`` and the ``POST`` steps (``announce``, ``shares``, ``complain``, ``reveal``,
  ``confirm``, ``partials``): JSON in, JSON out, CSRF-checked (``X-CSRFToken``); a refusal is
  ``422 {"error": ..., "member": ...}`` in Vietnamese, naming the member when one is at fault.
* The runner's steps, on the vote's page: start the ceremony (before opening), check the box of
  the phase (the ballots summed, no key), and combine the members' partial decryptions.
"""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import ALL_STAFF, current_actor, get_scoped, staff_required
from consult.db import db_session
from consult.errors import DomainError
from consult import worker
from consult.pages import act, refuse_back, undo
from consult.polls import jobs as slip_jobs
from consult.polls import keyceremony, service
from consult.polls.ceremony import PartialDecryption
from consult.polls.models import PHASE_CONSENT, Poll
from consult.polls.views import NO_STORE, RUNNERS, _show, bp

# The ceremony's page runs this site's own scripts (and nothing else); connections only here.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _member_poll(poll_id: int) -> tuple[Poll, int]:
    """The vote and the signed-in member's number; 404 for anyone not on its board."""
    poll = db_session().get(Poll, poll_id)
    if poll is None or db_session().get(keyceremony.KeyCeremony, poll_id) is None:
        abort(404)
    try:
        return poll, keyceremony.member_index(db_session(), poll, current_user)
    except DomainError:
        abort(404)


def _json_step(run):
    """Run one step of a member's device: committed, or refused with its words (422)."""
    try:
        result = run()
    except DomainError as refusal:
        undo()
        return jsonify(error=str(refusal), member=getattr(refusal, "member", None)), 422
    except (KeyError, TypeError, ValueError, AttributeError):
        undo()
        return jsonify(error="Thiết bị gửi dữ liệu không đúng dạng; hãy tải lại trang và làm lại bước này.",
                       member=None), 422
    db_session().commit()
    return jsonify(ok=True, result=result)


def _payload() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _state(poll: Poll, index: int) -> dict:
    s = db_session()
    kc = s.get(keyceremony.KeyCeremony, poll.id)
    server = keyceremony.server_side(s, poll)
    box = keyceremony.inbox(s, poll, current_user)
    rows = {r.member: r for r in keyceremony._members(s, poll)}
    members = [{"member": i, "name": m.name, "announced": rows[i].announced_at is not None,
                "shares_sent": rows[i].shares_sent_at is not None, "confirmed": rows[i].confirmed_at is not None,
                "disqualified": rows[i].disqualified}
               for i, m in enumerate(poll.committee, start=1)]
    count = None
    if kc.finished_at is not None and s.get(keyceremony.CeremonyTally, (poll.id, poll.phase)) is not None:
        count = {"phase": poll.phase, "sent": keyceremony.partials_sent(s, poll, poll.phase),
                 "sums": [{"group": x.group_id, "choice": x.choice, "alpha": x.alpha.hex(), "context": x.context.hex()}
                          for x in keyceremony.sums(s, poll, poll.phase)],
                 "texts": [{"alpha": t.alpha.hex(), "context": t.context.hex()}
                           for t in keyceremony.sealed_texts(s, poll, poll.phase)]}
    return {
        "setup": {"vote_id": poll.id, "phase": keyceremony.KEY_PHASE, "members": kc.members,
                  "threshold": kc.threshold},
        "attempt": kc.attempt, "member": index, "finished": kc.finished_at is not None,
        "joint_key": kc.joint_key.hex() if kc.joint_key else None,
        "fingerprint": service.key_fingerprint(kc.joint_key, kc.joint_key)
        if kc.joint_key else None,
        "members": members,
        "announcements": {str(i): {"ceremony_key": a.ceremony_key.hex(), "commitments": [c.hex() for c in a.commitments],
                                   "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]}
                          for i, a in box.announcements.items()},
        "sealed": {str(i): blob.hex() for i, blob in box.sealed.items()},
        "revealed": {str(i): share.hex() for i, share in box.revealed.items()},
        "missing": box.missing,
        "complaints_against_me": keyceremony.complaints_against(s, poll, current_user),
        "qualified": sorted(server.qualified),
        "count": count,
    }


@bp.route("/polls/<int:poll_id>/ceremony")
@staff_required(*ALL_STAFF)
def ceremony_page(poll_id: int):
    poll, index = _member_poll(poll_id)
    member = poll.committee[index - 1]
    page = render_template("polls/ceremony.html", poll=poll, index=index, member=member,
                           state=_state(poll, index))
    return Response(page, headers={**NO_STORE, "Content-Security-Policy": PAGE_POLICY})


@bp.route("/polls/<int:poll_id>/ceremony/state.json")
@staff_required(*ALL_STAFF)
def ceremony_state(poll_id: int):
    poll, index = _member_poll(poll_id)
    response = jsonify(_state(poll, index))
    response.headers.update(NO_STORE)
    return response


def _partials(body: dict) -> dict[tuple[int, int], PartialDecryption]:
    out = {}
    for p in body["partials"]:
        out[(int(p["group"]), int(p["choice"]))] = PartialDecryption(
            int(body["member"]), bytes.fromhex(p["m"]), bytes.fromhex(p["c"]), bytes.fromhex(p["v"]))
    return out


@bp.route("/polls/<int:poll_id>/ceremony/<any(announce, shares, complain, reveal, confirm, partials):step>",
          methods=["POST"])
@staff_required(*ALL_STAFF)
def ceremony_step(poll_id: int, step: str):
    poll, _ = _member_poll(poll_id)
    s, user = db_session(), current_user

    def run():
        body = _payload()
        if step == "announce":
            return keyceremony.announce(s, poll, user, body)
        if step == "shares":
            return keyceremony.send_shares(s, poll, user, {int(r): bytes.fromhex(b) for r, b in body["shares"].items()})
        if step == "complain":
            return keyceremony.complain(s, poll, user, int(body["sender"]))
        if step == "reveal":
            return keyceremony.reveal(s, current_actor(), poll, user, int(body["recipient"]),
                                      bytes.fromhex(body["share"]))
        if step == "confirm":
            return keyceremony.confirm(s, poll, user, bytes.fromhex(body["public_share"]))
        member = int(body["member"])
        texts = [PartialDecryption(member, bytes.fromhex(p["m"]), bytes.fromhex(p["c"]), bytes.fromhex(p["v"]))
                 for p in body.get("texts", [])]
        return keyceremony.send_partials(s, poll, user, poll.phase, _partials(body), texts=texts)

    return _json_step(run)


# --- the runner's steps ------------------------------------------------------------------------

@bp.route("/polls/<int:poll_id>/ceremony/start", methods=["POST"])
@staff_required(*RUNNERS)
def ceremony_start(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    return act(lambda: keyceremony.start(db_session(), current_actor(), poll),
               "Đã bắt đầu lễ tạo khóa: mỗi thành viên Tổ lấy ý kiến đăng nhập bằng tài khoản của mình, mở trang "
               "«Lễ tạo khóa» trên thiết bị của mình và làm theo từng bước.", _show(poll))


@bp.route("/polls/<int:poll_id>/ceremony/silent", methods=["POST"])
@staff_required(*RUNNERS)
def ceremony_silent(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    return act(lambda: keyceremony.disqualify_silent(db_session(), current_actor(), poll),
               lambda named: ("Đã loại thành viên " + ", ".join(f"số {m}" for m in named)
                              + " vì không trả lời khiếu nại.") if named else "Không có khiếu nại nào đang chờ.",
               _show(poll))


@bp.route("/polls/<int:poll_id>/ceremony/check", methods=["POST"])
@staff_required(*RUNNERS)
def ceremony_check(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    if poll.phase != PHASE_CONSENT and slip_jobs.ballots_to_count(s, poll) > current_app.config["COUNT_INLINE_MAX"]:
        # Many ballots: checked by a background job with a progress bar (consult/polls/jobs.py).
        refuse_back(_show(poll))
        job = slip_jobs.queue_ceremony_check(s, poll, user_id=current_user.id, user_name=current_actor().name)
        s.commit()
        worker.wake(current_app)
        return redirect(url_for("jobs.show", job_id=job.id))
    return act(lambda: keyceremony.check_for_count(db_session(), poll, poll.phase),
               "Đã kiểm và cộng các phiếu (không cần khóa). Mỗi thành viên Tổ lấy ý kiến mở trang «Lễ tạo khóa» "
               f"để giải mã phần của mình; cần ít nhất {poll.key_threshold} thành viên.", _show(poll))


@bp.route("/polls/<int:poll_id>/ceremony/count", methods=["POST"])
@staff_required(*RUNNERS)
def ceremony_count(poll_id: int):
    poll = get_scoped(Poll, poll_id)
    s = db_session()
    phase = poll.phase

    def run():
        counted = keyceremony.combine_count(s, poll, phase)
        if phase == PHASE_CONSENT:
            return service.close_consent(s, current_actor(), poll, counted=counted)
        return service.close_poll(s, current_actor(), poll, counted=counted)

    return act(run, "Đã kết thúc vòng lấy ý kiến đồng ý và kiểm phiếu." if phase == PHASE_CONSENT
               else "Đã kết thúc và tính kết quả.", _show(poll))

