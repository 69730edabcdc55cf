"""The law's thresholds, forms and deadlines (Luật Điều 15-21; NĐ 59 Điều 3-5)."""

from datetime import date

import pytest

from consult.polls import rules


@pytest.mark.parametrize("kind,households,agree,expected", [
    ("k6", 120, 61, True), ("k6", 120, 60, False), ("k3", 121, 61, True), ("k4", 7, 3, False),
    ("k1", 120, 80, True), ("k1", 120, 79, False), ("k2", 3, 2, True), ("k2", 100, 66, False), ("k2", 100, 67, True),
    ("k6", 0, 0, False),
])
def test_thresholds_count_all_households(kind, households, agree, expected):
    assert rules.passes(kind, households, agree) is expected
    if households:
        assert rules.passes(kind, households, rules.min_agree(kind, households))
        assert not rules.passes(kind, households, rules.min_agree(kind, households) - 1)


def test_commune_wide_two_thirds_of_groups():
    assert rules.commune_wide_passes(5, 4) and not rules.commune_wide_passes(5, 3)
    assert rules.commune_wide_passes(3, 2) and not rules.commune_wide_passes(3, 1)


def test_consent_needs_more_than_half_of_all_households():
    assert rules.consent_reached(120, 61) and not rules.consent_reached(120, 60)


@pytest.mark.parametrize("kind", ["k1", "k2", "k3", "k4", "k5"])
def test_online_only_for_khoan_6(kind):
    with pytest.raises(rules.FormNotAllowed, match="khoản 6"):
        rules.check_form(kind, "online", commune_wide=False)
    rules.check_form("k6", "online", commune_wide=False)


@pytest.mark.parametrize("kind", ["k3", "k4", "k5"])
def test_meeting_only_matters_take_ballots_only_after_a_failed_meeting(kind):
    with pytest.raises(rules.FormNotAllowed, match="cuộc họp"):
        rules.check_form(kind, "ballot", commune_wide=False, chosen_by_head_and_front=True)
    rules.check_form(kind, "ballot", commune_wide=False, follows_failed_meeting=True)


def test_ballot_grounds_for_other_matters():
    with pytest.raises(rules.FormNotAllowed):
        rules.check_form("k1", "ballot", commune_wide=False)
    rules.check_form("k1", "ballot", commune_wide=True, chosen_by_chairman=True)
    rules.check_form("k6", "ballot", commune_wide=False, chosen_by_head_and_front=True)


def test_recognition_and_effect():
    assert rules.recognition("k6", False).by is None
    assert rules.recognition("k1", True).by == "ubnd"
    assert rules.recognition("k4", False).by == "ubnd"
    assert rules.recognition("k5", False).by == "mttq"


def test_five_working_days_skip_weekends_and_holidays():
    # Friday 29/8/2025; 1 and 2 September are holidays.
    holidays = {date(2025, 9, 1), date(2025, 9, 2)}
    assert rules.add_working_days(date(2025, 8, 29), 5, holidays) == date(2025, 9, 9)
    assert rules.add_working_days(date(2025, 8, 29), 5, set()) == date(2025, 9, 5)


def test_meeting_attendance_too_low():
    assert not rules.meeting_can_decide("k6", 120, 60)
    assert rules.meeting_can_decide("k6", 120, 61)
    assert not rules.meeting_can_decide("k1", 120, 79)


def test_procedural_choices_need_more_than_half_of_those_present():
    assert rules.procedural_passes(40, 21) and not rules.procedural_passes(40, 20)
    assert not rules.procedural_passes(0, 0)


@pytest.mark.parametrize("decided,deadline", [
    # Luật Điều 20 khoản 3: 5 working days. Tết Đinh Mùi 2027: 4 to 10 February off.
    (date(2027, 2, 3), date(2027, 2, 17)),
    # Giỗ Tổ Hùng Vương 2027 (10/3 âm lịch): Friday 16 April off.
    (date(2027, 4, 14), date(2027, 4, 22)),
    # 30/4 and 1/5 2027 (a Saturday, observed Monday 3 May).
    (date(2027, 4, 29), date(2027, 5, 10)),
])
def test_five_working_days_across_tet_and_gio_to_2027(decided, deadline):
    from consult.polls.deadlines import WorkCalendar, national_holidays

    calendar = WorkCalendar(frozenset(national_holidays([2027])), frozenset())
    assert calendar.add_working_days(decided, 5) == deadline


@pytest.mark.parametrize("matter", ["k1", "k2", "k3", "k4", "k5", "k6"])
def test_the_wizard_offers_exactly_the_forms_check_form_can_accept(matter):
    """The forms the vote wizard offers for a matter are those that some legal basis lets
    ``check_form`` accept (online in one group only); offering more would lead to a refusal at
    the last step, offering fewer would hide what the law allows."""
    acceptable = set()
    for form in ("meeting", "ballot", "online"):
        for commune_wide in (True, False):
            for chairman in (True, False):
                for head_and_front in (True, False):
                    try:
                        rules.check_form(matter, form, commune_wide=commune_wide, chosen_by_chairman=chairman,
                                         chosen_by_head_and_front=head_and_front,
                                         several_groups=False if form == "online" else None)
                    except rules.FormNotAllowed:
                        continue
                    acceptable.add(form)
    assert {c.form for c in rules.form_choices(matter)} == acceptable
    assert [c.form for c in rules.form_choices(matter, follows_failed_meeting=True)] == ["ballot"]
    assert rules.rule_text(matter) in rules.matter_rule(matter)
