"""The law's rules for residents' decisions, as pure functions (no database).

Luật Thực hiện dân chủ ở cơ sở 2022: Điều 15 (what residents decide), Điều 17
(one form per vote), Điều 18-19 (meeting, ballots), Điều 20-21 (decision,
thresholds, recognition); Nghị định 59/2023/NĐ-CP Điều 3-5; Nghị định
61/2023/NĐ-CP Điều 10 (hương ước). Counts are integers; 60 of 120 is not
more than half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from consult.errors import DomainError

TWO_THIRDS_KINDS = {"k1", "k2"}
MEETING_ONLY_KINDS = {"k3", "k4", "k5"}


def min_agree(matter_kind: str, households: int) -> int:
    """The smallest number of agreeing households that passes (Điều 21 khoản 1)."""
    if matter_kind in TWO_THIRDS_KINDS:
        return -(-2 * households // 3)  # Y × 3 ≥ 2 × H
    return households // 2 + 1  # Y × 2 > H


def passes(matter_kind: str, households: int, agree: int) -> bool:
    if households <= 0:
        return False
    if matter_kind in TWO_THIRDS_KINDS:
        return agree * 3 >= 2 * households
    return agree * 2 > households


def rule_text(matter_kind: str) -> str:
    if matter_kind in TWO_THIRDS_KINDS:
        return "ít nhất hai phần ba tổng số hộ gia đình"
    return "hơn một nửa tổng số hộ gia đình"


def commune_wide_passes(groups_total: int, groups_approving: int) -> bool:
    """k1, k2 over the commune: at least two thirds of the groups approve, each by its own households."""
    return groups_total > 0 and groups_approving * 3 >= 2 * groups_total


def procedural_passes(present: int, agree: int) -> bool:
    """A meeting's procedural choice: more than half of the representatives present (NĐ 59 Điều 3 khoản 5)."""
    return present > 0 and agree * 2 > present


def consent_reached(households: int, agreed: int) -> bool:
    """Online voting needs more than half of ALL households to agree first (NĐ 59 Điều 5 khoản 1)."""
    return households > 0 and agreed * 2 > households


class FormNotAllowed(DomainError):
    """The law does not allow this form for this matter; the message says why."""


def check_form(matter_kind: str, form: str, *, commune_wide: bool, chosen_by_chairman: bool = False,
               chosen_by_head_and_front: bool = False, follows_failed_meeting: bool = False,
               several_groups: bool | None = None) -> None:
    """One form per vote (Điều 17 khoản 1); which forms each matter allows. ``commune_wide``:
    every group of the commune; ``several_groups``: more than one (commune-wide or not)."""
    several_groups = commune_wide if several_groups is None else several_groups
    if form == "meeting":
        return
    if form == "online":
        if matter_kind != "k6":
            raise FormNotAllowed(
                f"Không được biểu quyết trực tuyến nội dung thuộc khoản {matter_kind[1]} Điều 15: theo khoản 2 "
                "Điều 17 Luật Thực hiện dân chủ ở cơ sở, biểu quyết trực tuyến chỉ áp dụng cho các công việc tự quản "
                "khác của cộng đồng (khoản 6)." + (" Nội dung này phải quyết định tại cuộc họp cộng đồng dân cư."
                                                    if matter_kind in MEETING_ONLY_KINDS else ""))
        if several_groups:
            raise FormNotAllowed("Biểu quyết trực tuyến do Trưởng thôn, Tổ trưởng tổ dân phố tổ chức trong phạm vi "
                                 "một khu dân cư (Nghị định 59/2023/NĐ-CP, Điều 5).")
        return
    if form != "ballot":
        raise FormNotAllowed("Hình thức không hợp lệ.")
    if follows_failed_meeting:
        return
    if matter_kind in MEETING_ONLY_KINDS:
        raise FormNotAllowed(
            f"Nội dung thuộc khoản {matter_kind[1]} Điều 15 phải quyết định tại cuộc họp cộng đồng dân cư; chỉ phát "
            "phiếu khi cuộc họp không đủ số hộ tham dự, và phải gắn với cuộc họp đó (Điều 17 khoản 2, Điều 19).")
    if commune_wide and chosen_by_chairman:
        return
    if matter_kind == "k6" and chosen_by_head_and_front:
        return
    raise FormNotAllowed(
        "Chỉ phát phiếu lấy ý kiến hộ gia đình khi: Chủ tịch UBND cấp xã quyết định (nội dung trên địa bàn xã), "
        "cuộc họp không đủ số hộ tham dự, hoặc (khoản 6) Trưởng thôn và Ban công tác Mặt trận quyết định "
        "(Nghị định 59/2023/NĐ-CP, Điều 4).")


@dataclass(frozen=True)
class Recognition:
    by: str | None  # None, "ubnd", "mttq"
    effect: str


def recognition(matter_kind: str, commune_wide: bool) -> Recognition:
    """Who recognises the decision, and when it takes effect (Điều 21 khoản 2)."""
    if matter_kind in TWO_THIRDS_KINDS and commune_wide:
        return Recognition("ubnd", "có hiệu lực từ ngày do Ủy ban nhân dân cấp xã quyết định")
    if matter_kind in ("k3", "k4"):
        return Recognition("ubnd", "có hiệu lực khi được Ủy ban nhân dân cấp xã công nhận")
    if matter_kind == "k5":
        return Recognition("mttq", "có hiệu lực khi được Ban Thường trực Ủy ban MTTQ Việt Nam cấp xã công nhận")
    return Recognition(None, "có hiệu lực kể từ ngày được thông qua")


RECOGNISERS = {None: "Không cần công nhận", "ubnd": "Ủy ban nhân dân cấp xã",
               "mttq": "Ủy ban Mặt trận Tổ quốc Việt Nam cấp xã"}


def add_working_days(start: date, days: int, holidays: set[date], worked: set[date] = frozenset()) -> date:
    """The date ``days`` working days after ``start``: weekends and holidays skipped,
    weekend days worked in exchange for a day off (ngày làm bù) counted."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current in worked or (current.weekday() < 5 and current not in holidays):
            left -= 1
    return current


def meeting_can_decide(matter_kind: str, households: int, present: int) -> bool:
    """Whether the households present could still reach the threshold (and, for a
    hương ước, whether more than half are present: NĐ 61 Điều 10)."""
    return present >= min_agree(matter_kind, households)


def meeting_groups_can_decide(matter_kind: str, commune_wide: bool, groups: list[tuple[int, int]]) -> bool:
    """Whether a meeting of one or several groups can go on to decide, attendance counted
    group by group: ``groups`` is [(households, present)] of each group.

    A commune-wide khoản 1, 2 matter needs two thirds of the groups each with enough of its
    own households present (Luật Điều 21 khoản 1); any other matter of several groups is
    decided by each group for itself, so the meeting decides where at least one group can."""
    able = [meeting_can_decide(matter_kind, households, present) for households, present in groups]
    if not able:
        return False
    if len(able) == 1:
        return able[0]
    if commune_wide and matter_kind in TWO_THIRDS_KINDS:
        return commune_wide_passes(len(able), sum(able))
    return any(able)




ELECTION_KINDS = ("k4", "k5")

# The meeting's notice (practice: neither the Luật nor NĐ 59 sets a number of days):
# the head announces the time, place and content to the households, on the
# loudspeaker and at the cultural house, at least this many days before the
# meeting, so that every household can send its representative.
MEETING_NOTICE_DAYS = 3


def notice_shortfall(announced_on: date | None, meeting_day: date) -> str | None:
    """Why a meeting's notice is not enough, or None when it is."""
    if announced_on is None:
        return "chưa ghi ngày thông báo cuộc họp cho các hộ gia đình"
    if announced_on > meeting_day:
        return "ngày thông báo sau ngày họp"
    if (meeting_day - announced_on).days < MEETING_NOTICE_DAYS:
        return (f"cuộc họp phải được thông báo cho các hộ ít nhất {MEETING_NOTICE_DAYS} ngày trước ngày họp "
                f"(thông báo ngày {announced_on:%d/%m/%Y}, họp ngày {meeting_day:%d/%m/%Y})")
    return None
# Luật Điều 18 khoản 3: a group of 200 households or more may meet by clusters.
CLUSTER_MIN_HOUSEHOLDS = 200


def elected(votes: list[tuple[int, int]], matter_kind: str, households: int, seats: int) -> tuple[list[int], list[int]]:
    """Who is elected (or which option is chosen): each candidate counted on its own,
    elected when its votes reach the matter's threshold of ALL households (more than
    half for khoản 4, 5: NĐ 59/2023 Điều 6-9), in order of votes, up to the seats.

    ``votes`` is [(choice id, votes)]. Returns (elected ids, ids tied at the last seat).
    Candidates tied for the last seat are not elected: the minutes say so, and that
    seat is voted on again.
    """
    above = sorted(((v, cid) for cid, v in votes if passes(matter_kind, households, v)), key=lambda x: -x[0])
    if len(above) <= seats:
        return [cid for _, cid in above], []
    cut = above[seats - 1][0]
    if above[seats][0] < cut:
        return [cid for _, cid in above[:seats]], []
    return [cid for v, cid in above if v > cut], [cid for v, cid in above if v == cut]

# Who signs for a group: its head's title follows the group's kind (Luật Điều 20 khoản 2).
HEAD_TITLES = {"thon": "TRƯỞNG THÔN", "to_dan_pho": "TỔ TRƯỞNG TỔ DÂN PHỐ", "khu_pho": "TRƯỞNG KHU PHỐ",
               "ap": "TRƯỞNG ẤP", "ban": "TRƯỞNG BẢN"}


# --- creating a vote, step by step: the matter, then the forms the law allows for it -------------

@dataclass(frozen=True)
class FormChoice:
    form: str  # "meeting", "ballot", "online"
    rule: str  # when the law allows it, in one sentence


def matter_rule(matter_kind: str) -> str:
    """What a decision on this matter needs and who recognises it, in one sentence (Điều 21)."""
    threshold = f"Thông qua khi {rule_text(matter_kind)} của khu dân cư đồng ý (Điều 21 khoản 1)"
    if matter_kind in TWO_THIRDS_KINDS:
        return (threshold + "; nội dung trên địa bàn cả xã cần hai phần ba số khu dân cư tán thành, và có hiệu lực "
                "từ ngày Ủy ban nhân dân cấp xã quyết định.")
    if matter_kind in ("k3", "k4"):
        return threshold + "; phải họp, và có hiệu lực khi được Ủy ban nhân dân cấp xã công nhận (Điều 21 khoản 2)."
    if matter_kind == "k5":
        return (threshold + "; phải họp, và có hiệu lực khi được Ban Thường trực Ủy ban MTTQ Việt Nam cấp xã "
                "công nhận (Điều 21 khoản 2).")
    return threshold + "; có hiệu lực từ ngày được thông qua."


def form_choices(matter_kind: str, *, follows_failed_meeting: bool = False) -> list[FormChoice]:
    """The forms the law allows for ``matter_kind`` (Điều 17, NĐ 59/2023 Điều 3-5), each with its
    condition; what ``check_form`` refuses is not offered. After a meeting that lacked the
    households, only the ballot that follows it."""
    if follows_failed_meeting:
        return [FormChoice("ballot", "Phát phiếu lấy ý kiến các hộ vì cuộc họp không đủ số hộ tham dự (Điều 19).")]
    choices = [FormChoice("meeting", f"Họp cộng đồng dân cư: thông báo cho các hộ ít nhất {MEETING_NOTICE_DAYS} ngày "
                                     "trước; cuộc họp biểu quyết được khi số hộ có mặt đủ để đạt ngưỡng (Điều 18).")]
    if matter_kind in TWO_THIRDS_KINDS:
        choices.append(FormChoice("ballot", "Phát phiếu: chỉ khi Chủ tịch Ủy ban nhân dân cấp xã quyết định, với nội "
                                            "dung trên địa bàn cả xã (Nghị định 59/2023/NĐ-CP, Điều 4)."))
    if matter_kind == "k6":
        choices.append(FormChoice("ballot", "Phát phiếu: khi Trưởng khu dân cư và Ban công tác Mặt trận quyết định "
                                            "(Nghị định 59/2023/NĐ-CP, Điều 4)."))
        choices.append(FormChoice("online", "Biểu quyết trực tuyến: trong một khu dân cư, khi hơn một nửa tổng số hộ "
                                            "đồng ý biểu quyết trực tuyến trước (Nghị định 59/2023/NĐ-CP, Điều 5)."))
    return choices
