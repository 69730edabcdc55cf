"""Demo data: Phường Bình An, as in the seed cover letter 491/UBND (19/9/2024).

Loading twice changes nothing the second time. Passwords are random, made on
the first load and kept in ``instance/demo-credentials.json`` (owner-only) so
that every load can print them; TOTP secrets are printed for an authenticator.
The online vote's board (Tổ lấy ý kiến) are demo accounts too; each picks up its own
key share as a member would, and the demo keeps the shares in the instance folder.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import SYSTEM
from consult.auth import pickup
from consult.auth import service as auth_service
from consult.auth.models import User
from consult.communes import service as communes
from consult.communes.models import Commune, Household, ResidentialGroup, Unit
from consult.consultations import service as consultations
from consult.consultations.models import Consultation, DraftPart
from consult.documents import service as documents
from consult.opinions import service as opinions
from consult.opinions.models import CHANNEL_PAPER
from consult.timeutil import local_date, local_to_utc, utcnow

SEEDS = Path(__file__).resolve().parent / "seeds"
PLAN_TITLE = "Lấy ý kiến dự thảo Kế hoạch chỉnh trang đô thị, lắp đặt đèn chiếu sáng các hẻm khu phố 1 và khu phố 2"
BINH_AN_TITLE = ("Lấy ý kiến góp ý dự thảo Nghị quyết quy định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở "
                 "trên địa bàn phường Bình An")

COMMUNE_SLUG = "phuong-binh-an"
GROUP_SIZES = [120, 90, 75, 60, 45]  # khu phố 1..5: 390 households

UNITS = [
    ("co_quan", "Đảng ủy phường"),
    ("co_quan", "Hội đồng nhân dân phường"),
    ("co_quan", "Ủy ban nhân dân phường"),
    ("mttq", "Ủy ban MTTQ Việt Nam phường"),
    ("doan_the", "Hội Liên hiệp Phụ nữ phường"),
    ("doan_the", "Đoàn Thanh niên Cộng sản Hồ Chí Minh phường"),
    ("doan_the", "Hội Cựu chiến binh phường"),
    ("doan_the", "Hội Người cao tuổi phường"),
    ("ban_nganh", "Công an phường"),
    ("ban_nganh", "Ban Chỉ huy Quân sự phường"),
]

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Đức", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Đạt", "Hà", "Hải", "Hạnh", "Hiền", "Hoa", "Hùng", "Khánh", "Lan",
         "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng",
         "Trang", "Trung", "Tuấn", "Vân", "Yến"]
STREETS = ["đường Nguyễn An Ninh", "đường Trần Hưng Đạo", "đường số 7", "đường Bình Đường 3", "đường Lý Thường Kiệt"]

ACCOUNTS = [
    # username, full name, role, group index, unit name
    ("admin.binhan", "Nguyễn Văn Quản", "admin", None, None),
    ("tam.vptk", "Lê Thị Tâm", "officer", None, None),
    ("truong.kp1", "Trần Văn Hải", "group_head", 0, None),
    ("mttq.binhan", "Phạm Thị Hạnh", "unit_rep", None, "Ủy ban MTTQ Việt Nam phường"),
    # The online vote's board, with truong.kp1: each member's own account receives their key share.
    ("hoa.bctmt", "Nguyễn Thị Hoa", "unit_rep", None, "Ban điều hành khu phố 1"),
    ("duc.kp1", "Lê Minh Đức", "unit_rep", None, "Tổ nhân dân tự quản khu phố 1"),
]
BOARD = [("hoa.bctmt", "Đại diện Ban công tác Mặt trận", True), ("truong.kp1", "Trưởng ban điều hành khu phố", False),
         ("duc.kp1", "Thành viên", False)]


def _load_credentials(instance_path: str) -> dict:
    path = Path(instance_path) / "demo-credentials.json"
    creds = json.loads(path.read_text()) if path.exists() else {}
    missing = {
        username: {"password": secrets.token_urlsafe(9), "totp": pyotp.random_base32() if role in ("admin", "officer") else None}
        for username, _, role, _, _ in ACCOUNTS if username not in creds
    }
    if not missing:
        return creds
    creds.update(missing)  # accounts added since an earlier load keep the earlier ones' passwords
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(creds, handle, ensure_ascii=False, indent=1)
    return creds


# The lines name pages under this mark; ``load_demo`` puts the site's address in its place.
SITE = "\x00site\x00"


def load_demo(session: Session, instance_path: str, *, now: datetime | None = None, site: str = "http://127.0.0.1:5000",
              pickup_cost: pickup.KdfCost = pickup.DEFAULT_COST) -> list[str]:
    """Load every demo part that is not there yet; return lines to print."""
    now = now or utcnow()
    commune = _structure(session)
    lines = [f"Dữ liệu mẫu: {commune.full_name}, {commune.province} — {SITE}/c/{commune.slug}/"]
    lines += _accounts(session, commune, instance_path, pickup_cost)
    # The finished consultation first: its documents took the register's numbers before the open one's.
    lines += _closed_consultation(session, commune, now=now)
    lines += _consultation(session, commune, now=now)
    lines += _online_vote(session, commune, instance_path, now=now)
    lines += _covenants(session, commune, now=now)
    from consult.proposals.demo import add_demo

    group = session.scalar(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune.id,
                                                          ResidentialGroup.name == "Khu phố 1"))
    lines += add_demo(session, commune, group, now, site=SITE)
    return [line.replace(SITE, site.rstrip("/")) for line in lines]


def _structure(session: Session) -> Commune:
    commune = session.scalar(select(Commune).where(Commune.slug == COMMUNE_SLUG))
    if commune is not None:
        return commune
    commune = communes.save_commune(session, SYSTEM, None, kind="phuong", name="Bình An",
                                    province="Bình Dương", slug=COMMUNE_SLUG)
    rng = random.Random(491)
    for index, size in enumerate(GROUP_SIZES, start=1):
        group = communes.save_group(session, SYSTEM, commune, None, kind="khu_pho", name=f"Khu phố {index}",
                                    position=index, head_email=f"truong.kp{index}@binhan.example.vn")
        communes.save_unit(session, SYSTEM, commune, None, kind="ban_dieu_hanh",
                           name=f"Ban điều hành khu phố {index}", group_id=group.id)
        communes.save_unit(session, SYSTEM, commune, None, kind="to_ndtq",
                           name=f"Tổ nhân dân tự quản khu phố {index}", group_id=group.id)
        for number in range(1, size + 1):
            name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            session.add(Household(
                commune_id=commune.id, group_id=group.id, code=f"KP{index}-{number:03d}",
                representative=name, members=rng.randint(1, 7),
                address=f"Số {rng.randint(1, 400)}, {rng.choice(STREETS)}, khu phố {index}, phường Bình An",
            ))
    for kind, name in UNITS:
        communes.save_unit(session, SYSTEM, commune, None, kind=kind, name=name)
    session.flush()
    return commune


def _accounts(session: Session, commune: Commune, instance_path: str, pickup_cost: pickup.KdfCost) -> list[str]:
    creds = _load_credentials(instance_path)
    groups = list(session.scalars(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune.id)
                                  .order_by(ResidentialGroup.position)))
    lines = ["", "Tài khoản (tên đăng nhập / mật khẩu / khóa TOTP):"]
    for username, full_name, role, group_index, unit_name in ACCOUNTS:
        cred = creds[username]
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            unit_id = None
            if unit_name:
                unit_id = session.scalar(select(Unit.id).where(Unit.commune_id == commune.id, Unit.name == unit_name))
            user = auth_service.create_user(
                session, SYSTEM, username=username, full_name=full_name, role=role, password=cred["password"],
                commune_id=commune.id, group_id=groups[group_index].id if group_index is not None else None,
                unit_id=unit_id)
            if cred["totp"]:
                user.totp_secret, user.totp_enabled = cred["totp"], True
        if not pickup.has_key(user):  # as its first sign-in would: the share-pickup key
            auth_service.authenticate(session, username, cred["password"], pickup_cost=pickup_cost)
        totp = cred["totp"] or "—"
        lines.append(f"  {user.role_label:<45} {username:<14} {cred['password']:<14} {totp}")
    lines.append("  (Mã TOTP hiện tại: python -c \"import pyotp; print(pyotp.TOTP('KHÓA').now())\")")
    return lines


def _consultation(session: Session, commune: Commune, *, now: datetime) -> list[str]:
    """The consultation of letter 491/UBND, moved to the present: published five
    days ago, closing at 17:00 on the 21st day, as the letter set it."""
    existing = session.scalar(select(Consultation).where(Consultation.commune_id == commune.id,
                                                         Consultation.title == BINH_AN_TITLE))
    if existing is None:
        letter_day = local_date(now) - timedelta(days=5)
        opens_at = local_to_utc(datetime.combine(letter_day, time(8, 0)))
        closes_at = local_to_utc(datetime.combine(letter_day + timedelta(days=21), time(17, 0)))
        source = consultations.read_draft(text=(SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_text("utf-8"))
        units = list(session.scalars(select(Unit).where(Unit.commune_id == commune.id)))
        facts = consultations.ConsultationFacts(
            title=BINH_AN_TITLE, doc_kind="nghi_quyet", issuing_body="Ủy ban nhân dân phường Bình An",
            officer_name="Đ/c Tâm – Công chức VP-TK", officer_contact="Văn phòng UBND phường Bình An",
            opens_at=opens_at, closes_at=closes_at, letter_number="491/UBND", letter_date=letter_day)
        existing = consultations.create_consultation(session, SYSTEM, commune, facts, source,
                                                     [u.id for u in units], now=opens_at)
        _plan_letter_publish(session, existing, letter_day, opens_at)
        _post_everywhere(session, existing, "draft", letter_day, now=now)
        _demo_opinions(session, existing, units, opens_at)
    return ["", f"Đợt lấy ý kiến mẫu: {existing.title} — {SITE}/c/{commune.slug}/consultations/{existing.id}",
            f"  kế hoạch và công văn xin ý kiến: {SITE}/consultations/{existing.id}/plan, "
            f"sổ văn bản đi: {SITE}/documents/"]


def _plan_letter_publish(session: Session, consultation: Consultation, letter_day, opens_at: datetime) -> None:
    """The plan (Luật Điều 28 khoản 1) two days before the letter to the units, both numbered
    from the register of outgoing documents, then the draft published."""
    plan = documents.default_plan(consultation)
    plan.signer_name = "Vũ Thị Hiền"
    documents.save_plan(session, SYSTEM, consultation, plan, now=opens_at)
    documents.issue_plan(session, SYSTEM, consultation, letter_day - timedelta(days=2), now=opens_at)
    letter = documents.issue_letter(session, SYSTEM, consultation, letter_day, signer="Vũ Thị Hiền", now=opens_at)
    consultation.letter_number = letter.reference
    consultations.publish(session, SYSTEM, consultation, now=opens_at)


def _demo_opinions(session: Session, consultation: Consultation, units: list[Unit], start: datetime) -> None:
    by_name = {u.name: u for u in units}
    parts = {p.label: p.id for p in session.scalars(select(DraftPart).where(DraftPart.consultation_id == consultation.id))}
    groups = {g.name: g.id for g in session.scalars(select(ResidentialGroup).where(ResidentialGroup.commune_id == consultation.commune_id))}
    day = timedelta(days=1)
    opinions.agree_without_comment(session, SYSTEM, consultation, by_name["Ủy ban MTTQ Việt Nam phường"].id, now=start + day)
    opinions.agree_without_comment(session, SYSTEM, consultation, by_name["Công an phường"].id, now=start + 2 * day)
    opinions.add_unit_comments(session, SYSTEM, consultation, by_name["Hội Liên hiệp Phụ nữ phường"].id, [
        (parts["Điều 1, khoản 2, điểm b"], "Đề nghị bổ sung hình thức tuyên truyền qua nhóm Zalo của từng khu phố."),
        (parts["Điều 1, khoản 3, điểm c"], "Sửa “Cùng cố” thành “Củng cố”."),
    ], now=start + 2 * day)
    opinions.add_unit_comments(session, SYSTEM, consultation, by_name["Ban điều hành khu phố 1"].id, [
        (parts["Điều 1, khoản 5, điểm d"], "Đề nghị hướng dẫn cụ thể cách biểu quyết trực tuyến cho người cao tuổi."),
    ], channel=CHANNEL_PAPER, letter=opinions.PaperLetter("12/BĐH-KP1", local_date(start + 3 * day)),
        now=start + 3 * day)
    residents = [
        ("Nguyễn Văn Bình", "Khu phố 2", parts["Điều 1, khoản 4, điểm b"], "Nên khen thưởng cả các tổ nhân dân tự quản làm tốt."),
        ("Trần Thị Lan", "Khu phố 3", None, "Tôi nhất trí với dự thảo. Đề nghị công khai kết quả trên loa phát thanh."),
        ("Lê Hữu Phúc", "Khu phố 1", parts["Điều 2"], "Cần nêu rõ mức kinh phí dự kiến hằng năm."),
    ]
    for i, (name, group, part_id, text) in enumerate(residents, start=1):
        opinions.add_resident_opinion(session, consultation, part_id=part_id, text=text, name=name,
                                      group_id=groups[group], now=start + 3 * day + i * timedelta(hours=5))


def _closed_consultation(session: Session, commune: Commune, *, now: datetime) -> list[str]:
    """A consultation that closed last month with every opinion answered, so that
    its final report can be downloaded at once."""
    from consult.reports import service as reports

    existing = session.scalar(select(Consultation).where(Consultation.commune_id == commune.id,
                                                         Consultation.title == PLAN_TITLE))
    if existing is None:
        start_day = local_date(now) - timedelta(days=60)
        opens_at = local_to_utc(datetime.combine(start_day, time(8, 0)))
        closes_at = local_to_utc(datetime.combine(start_day + timedelta(days=20), time(17, 0)))
        source = consultations.read_draft(text=(SEEDS / "binh-an-ke-hoach-chinh-trang-khu-pho.txt").read_text("utf-8"))
        units = list(session.scalars(select(Unit).where(Unit.commune_id == commune.id, Unit.kind.in_(
            ["mttq", "ban_dieu_hanh", "doan_the"]))))
        facts = consultations.ConsultationFacts(
            title=PLAN_TITLE, doc_kind="ke_hoach", issuing_body="Ủy ban nhân dân phường Bình An",
            officer_name="Đ/c Tâm – Công chức VP-TK", opens_at=opens_at, closes_at=closes_at,
            letter_number="388/UBND", letter_date=start_day)
        existing = consultations.create_consultation(session, SYSTEM, commune, facts, source,
                                                     [u.id for u in units], now=opens_at)
        _plan_letter_publish(session, existing, start_day, opens_at)
        _post_everywhere(session, existing, "draft", start_day, now=now)
        parts = {p.label: p.id for p in existing.parts}
        groups = {g.name: g.id for g in session.scalars(select(ResidentialGroup).where(
            ResidentialGroup.commune_id == commune.id))}
        day = timedelta(days=1)
        for i, unit in enumerate(units):
            if unit.name.startswith("Ban điều hành khu phố 1"):
                opinions.add_unit_comments(session, SYSTEM, existing, unit.id, [
                    (parts["Mục II, khoản 1"], "Đề nghị ưu tiên các hẻm 12 và 14 đường Nguyễn An Ninh.")],
                    now=opens_at + 2 * day)
            elif unit.name != "Hội Người cao tuổi phường":
                opinions.agree_without_comment(session, SYSTEM, existing, unit.id, now=opens_at + (1 + i % 5) * day)
        same = "Đề nghị lắp đèn ở hẻm 27 trước Tết"
        for i, (name, group) in enumerate([("Phan Văn Hùng", "Khu phố 2"), ("Đỗ Thị Hoa", "Khu phố 2"),
                                           ("Vũ Minh Tuấn", "Khu phố 2")]):
            opinions.add_resident_opinion(session, existing, part_id=parts["Mục II, khoản 1"],
                                          text=same + ("." if i else "!"), name=name, group_id=groups[group],
                                          now=opens_at + (3 + i) * day)
        opinions.add_resident_opinion(session, existing, part_id=parts["Mục II, khoản 3"],
                                      text="Không nên vận động Nhân dân đóng góp kinh phí.", name="Bùi Thị Yến",
                                      group_id=groups["Khu phố 1"], now=opens_at + 6 * day)
        opinions.add_resident_opinion(session, existing, part_id=None, text="Nhất trí với kế hoạch.",
                                      name="Ngô Quốc Sơn", group_id=groups["Khu phố 1"], now=opens_at + 7 * day)
        decisions = {
            "Đề nghị ưu tiên các hẻm 12": ("accepted", "Bổ sung vào danh mục lắp đặt đợt 1."),
            "Đề nghị lắp đèn ở hẻm 27": ("partly", "Hẻm 27 được lắp trong đợt 2 (quý I) do cần di dời trụ điện."),
            "Không nên vận động": ("not_accepted", "Kinh phí xã hội hóa chỉ nhận đóng góp tự nguyện, không bắt buộc; "
                                                   "giữ nguyên nội dung để huy động doanh nghiệp trên địa bàn."),
            "Nhất trí với kế hoạch": ("noted", None),
        }
        data = reports.report_data(session, existing, now=closes_at)
        for row in data.rows():
            decision, explanation = next(v for k, v in decisions.items() if row.text.startswith(k))
            reports.decide(session, SYSTEM, existing, row.cluster.id, decision=decision, explanation=explanation,
                           now=closes_at + 2 * day)
        reports.save_settings(session, SYSTEM, existing, number=None, report_date=local_date(closes_at + 3 * day),
                              place="Bình An", signer_mode="TM", signer_name="Vũ Thị Hiền",
                              recipients="- Thường trực HĐND phường;\n- Ủy ban MTTQ Việt Nam phường;\n- Lưu: VT, VP-TK.")
        reports.publish_results(session, SYSTEM, existing, now=closes_at + 3 * day)
        _post_everywhere(session, existing, "results", local_date(closes_at + 4 * day), now=now)
        documents.issue_hdnd_report(session, SYSTEM, existing, local_date(closes_at + 5 * day), signer="Vũ Thị Hiền",
                                    now=closes_at + 5 * day)
    return [f"Đợt đã kết thúc, có báo cáo chính thức: {existing.title} — "
            f"{SITE}/c/{commune.slug}/consultations/{existing.id}/report "
            f"(flask --app consult report {existing.id} --format docx -o bao-cao.docx)"]


def _post_everywhere(session: Session, consultation: Consultation, subject: str, first_day, *, now: datetime) -> None:
    """Where the draft (or the results) went up (Luật Điều 13): the portal and the commune office
    on the first day, each cultural house the next day, the loudspeaker for three days."""
    from consult.publication import service as publication
    from consult.publication.models import CULTURAL_HOUSE, LOUDSPEAKER, OFFICE, PORTAL

    today = local_date(now)
    url = f"/c/{consultation.commune.slug}/consultations/{consultation.id}"  # on whatever host serves it
    steps = [(PORTAL, None, first_day, None, url, "Lê Thị Tâm, công chức VP-TK"),
             (OFFICE, None, first_day, first_day + timedelta(days=35), "", "Nguyễn Văn Bảo, bảo vệ trụ sở UBND")]
    steps += [(CULTURAL_HOUSE, g.id, first_day + timedelta(days=1), first_day + timedelta(days=36), "",
               f"Trưởng ban điều hành {g.full_name.lower()}") for g in consultation.commune.groups]
    steps.append((LOUDSPEAKER, None, first_day, first_day + timedelta(days=2), "", "Đài truyền thanh phường"))
    for channel, group_id, posted, ended, place, who in steps:
        if posted > today:
            continue
        publication.record_posting(session, SYSTEM, consultation, publication.PostingInput(
            subject=subject, channel=channel, posted_on=posted, confirmed_by=who, place=place, group_id=group_id,
            ended_on=ended if ended and ended <= today else None), now=now)


COVENANT_TITLE = "Hương ước khu phố 2"
COVENANT_TEXT = """Chương I. QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
{Kind} này quy định việc giữ gìn vệ sinh môi trường, an ninh trật tự và nếp sống văn minh của {group}, phường Bình An.
Chương II. NỘI DUNG
Điều 2. Vệ sinh môi trường
1. Hộ gia đình bỏ rác đúng giờ, từ 18 giờ đến 20 giờ hằng ngày.
2. Không đổ rác, xả nước thải ra hẻm, mương thoát nước.
Điều 3. An ninh trật tự
Không gây tiếng ồn sau 22 giờ; tổ chức tiệc cưới, việc tang thông báo trước cho Ban điều hành khu phố.
Chương III. TỔ CHỨC THỰC HIỆN
Điều 4. Hiệu lực
{Kind} có hiệu lực kể từ ngày được Ủy ban nhân dân phường công nhận."""


def covenant_text(kind: str, group: str) -> str:
    """The demo's covenant for one khu phố: "Hương ước" or "Quy ước", naming that khu phố."""
    return COVENANT_TEXT.format(Kind=kind, group=group)


def _covenants(session: Session, commune: Commune, *, now: datetime) -> list[str]:
    """The hương ước of khu phố 2 along its whole path (NĐ 61/2023): drafted, commented for 30
    days, adopted at a meeting of more than half of the households, recognised; and the quy ước
    of khu phố 3 now posted for comments."""
    from consult.covenants import service as covenants
    from consult.covenants.models import Covenant
    from consult.polls import service as polls
    from consult.polls.models import PollHousehold

    groups = {g.name: g for g in commune.groups}
    if session.scalar(select(Covenant.id).where(Covenant.commune_id == commune.id)) is None:
        day = timedelta(days=1)
        start = now - 75 * day
        kp2 = groups["Khu phố 2"]
        covenant = covenants.create(session, SYSTEM, commune, group_id=kp2.id, kind="huong_uoc", title=COVENANT_TITLE,
                                    text=covenant_text("Hương ước", "khu phố 2"), now=start)
        covenants.open_comments(session, SYSTEM, covenant, start + 30 * day, now=start)
        for i, (name, text) in enumerate([("Phan Văn Hùng", "Đề nghị ghi rõ giờ bỏ rác vào ngày lễ, Tết."),
                                          ("Đỗ Thị Hoa", "Nhất trí với dự thảo.")]):
            covenants.add_comment(session, covenant, name=name, address=f"Số {12 + i}, khu phố 2", text=text,
                                  now=start + (3 + i) * day)
        meeting_at = local_to_utc(datetime.combine(local_date(start + 35 * day), time(19, 30)))
        poll = covenants.call_meeting(session, SYSTEM, covenant, covenants.MeetingInput(
            covenant_text("Hương ước", "khu phố 2").replace("hằng ngày.", "hằng ngày, kể cả ngày lễ, Tết."), meeting_at,
            meeting_at + timedelta(hours=2), local_date(meeting_at) - 5 * day), now=start + 31 * day)
        polls.open_poll(session, SYSTEM, poll, now=meeting_at)
        households = list(session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)
                                          .order_by(PollHousehold.code)))
        present = households[: len(households) * 3 // 4]
        for household in present:
            polls.check_in(session, SYSTEM, poll, poll_household_id=household.id)
        agree = next(c.id for c in poll.choices if c.kind == "agree")
        disagree = next(c.id for c in poll.choices if c.kind == "disagree")
        polls.record_meeting_count(session, SYSTEM, poll, counts={agree: len(present) - 4, disagree: 4},
                                   method="hands", now=meeting_at + timedelta(hours=1))
        polls.close_poll(session, SYSTEM, poll, now=meeting_at + timedelta(hours=2))
        decided = local_date(meeting_at)
        from consult.polls import deadlines

        work = deadlines.calendar(session, commune.id, decided)
        polls.mark_sent(session, SYSTEM, poll, work.add_working_days(decided, 2))
        polls.record_received(session, SYSTEM, poll, work.add_working_days(decided, 2))
        polls.recognise(session, SYSTEM, poll, number="112/QĐ-UBND", on=work.add_working_days(decided, 5))
        kp3 = groups["Khu phố 3"]
        draft = covenants.create(session, SYSTEM, commune, group_id=kp3.id, kind="quy_uoc",
                                 title="Quy ước giữ gìn vệ sinh khu phố 3", text=covenant_text("Quy ước", "khu phố 3"),
                                 now=now - 2 * day)
        covenants.open_comments(session, SYSTEM, draft, local_to_utc(datetime.combine(
            local_date(now) + 30 * day, time(17, 0))), now=now - day)
    return ["", f"Hương ước, quy ước (Nghị định 61/2023): {SITE}/c/{commune.slug}/covenants/"]


VOTE_TITLE = "Lắp đặt camera an ninh tại các cổng khu phố 1"


def _online_vote(session: Session, commune: Commune, instance_path: str, *, now: datetime) -> list[str]:
    """An open online vote on a khoản 6 matter in khu phố 1, its preconditions
    recorded and its consent round passed, ready for ballots to be printed.

    Each board member's key share is sealed to their own demo account; the demo picks
    each up with that member's password, as the member would on their own page, and
    keeps the shares in the instance folder (mode 600) so that the vote can be counted later."""
    from consult.polls import keycards
    from consult.polls import service as polls
    from consult.polls.models import Poll

    existing = session.scalar(select(Poll).where(Poll.commune_id == commune.id, Poll.title == VOTE_TITLE))
    if existing is None:
        group = session.scalar(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune.id,
                                                              ResidentialGroup.name == "Khu phố 1"))
        creds = _load_credentials(instance_path)
        board = {username: session.scalar(select(User).where(User.username == username)) for username, _, _ in BOARD}
        today = local_date(now)
        start = now - timedelta(days=2)
        data = polls.PollInput(
            title=VOTE_TITLE, matter_kind="k6", form="online", group_ids=[group.id],
            question="Hộ gia đình có đồng ý dùng quỹ khu phố (24 triệu đồng) để lắp 4 camera an ninh tại các cổng "
                     "khu phố 1 không?",
            content="Quỹ khu phố hiện có 31,5 triệu đồng. Camera ghi hình 24/24, lưu 30 ngày, do Ban điều hành khu "
                    "phố quản lý.",
            opens_at=start, closes_at=local_to_utc(datetime.combine(today + timedelta(days=10), time(20, 0))),
            committee=[polls.CommitteeInput(board[username].full_name, role, leader, user_id=board[username].id)
                       for username, role, leader in BOARD],
            agreed_unnecessary_on=today - timedelta(days=5), reported_on=today - timedelta(days=4),
            devices_confirmed=True)
        existing = polls.create_poll(session, SYSTEM, commune, data, now=start)
        polls.open_poll(session, SYSTEM, existing, now=start)
        cards = [keycards.pick_up(session, SYSTEM, existing, member.user, creds[member.user.username]["password"],
                                  now=start + timedelta(minutes=10)) for member in existing.committee]
        session.flush()
        fd = os.open(Path(instance_path) / f"demo-key-shares-{existing.id}.txt",
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("".join(f"{card.member}\t{card.code}\n" for card in cards))
        # The consent round, answered by the households through their own slips.
        issued = polls.issue_ballots(session, SYSTEM, existing, now=start)
        rng = random.Random(5)
        for ballot in issued[: int(len(issued) * 0.7)]:
            polls.cast_online(session, ballot.token, "agree" if rng.random() < 0.9 else "disagree",
                              now=start + timedelta(hours=2))
        polls.close_consent(session, SYSTEM, existing, shares=[card.code for card in cards[:2]],
                            now=start + timedelta(days=1))
    key_file = Path(instance_path) / f"demo-key-shares-{existing.id}.txt"
    lines = [f"Biểu quyết trực tuyến mẫu (khoản 6, khu phố 1): {SITE}/c/{commune.slug}/polls/{existing.id}"
             f" — in phiếu: flask --app consult ballots {existing.id} -o phieu.pdf"]
    if key_file.exists():
        lines.append("  Mã khóa kiểm phiếu (mỗi thành viên Tổ lấy ý kiến đã tự nhận trên tài khoản của mình; nhập "
                     "ít nhất 2 khi kết thúc; kết thúc trước hạn cần ghi lý do):")
        lines += [f"    {line}" for line in key_file.read_text().splitlines()]
    return lines
