"""Demo proposals (Luật Điều 16) for a demo commune's residential group."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import SYSTEM
from consult.communes.models import Commune, ResidentialGroup
from consult.proposals import service
from consult.proposals.models import Proposal

REACHED_TITLE = "Nạo vét, dọn vệ sinh mương thoát nước hẻm 27 mỗi quý một lần"
COLLECTING_TITLE = "Lắp gờ giảm tốc ở đầu hẻm 12 đường Nguyễn An Ninh"


def add_demo(session: Session, commune: Commune, group: ResidentialGroup, now: datetime, *,
             site: str = "http://127.0.0.1:5000") -> list[str]:
    """Two proposals of residents of ``group``: one that reached its threshold (10% of the
    households) and waits to be put to the community, one still collecting support, with
    online supports waiting to be checked. Loading twice changes nothing the second time.
    Returns lines to print, naming pages under ``site``."""
    lines = ["", f"Đề xuất của người dân (Điều 16): {site}/c/{commune.slug}/proposals/"]
    existing = set(session.scalars(select(Proposal.title).where(Proposal.commune_id == commune.id)))
    if REACHED_TITLE in existing and COLLECTING_TITLE in existing:
        return lines
    register = service.group_register(session, commune.id, group.id)
    if not register:
        return []
    needed = service.needed_supporters(len(register))
    day = timedelta(days=1)

    if REACHED_TITLE not in existing:
        start = now - 45 * day
        reached = service.submit_proposal(
            session, commune, group_id=group.id, matter_kind="k6", title=REACHED_TITLE,
            content="Mương thoát nước hẻm 27 thường bị rác và bùn lấp, mưa lớn là ngập. Đề nghị khu phố tổ chức "
                    "nạo vét, dọn vệ sinh mỗi quý một lần, các hộ trong hẻm cùng tham gia ngày công.",
            name=register[0].representative, address=register[0].address, now=start)
        service.open_for_support(session, SYSTEM, reached, now=start + 2 * day)
        online = register[:min(3, needed)]
        for household in online:
            support = service.add_online_support(session, reached, name=household.representative,
                                                 address=household.address, now=start + 4 * day)
            service.confirm_support(session, SYSTEM, reached, support, household.code, now=start + 5 * day)
        paper = [h.id for h in register[len(online):needed]]
        if paper:
            service.record_paper_supports(session, SYSTEM, reached, paper, now=start + 12 * day)

    if COLLECTING_TITLE not in existing:
        start = now - 12 * day
        collecting = service.submit_proposal(
            session, commune, group_id=group.id, matter_kind="k1", title=COLLECTING_TITLE,
            content="Xe máy đi nhanh từ đường Nguyễn An Ninh vào hẻm 12, nhiều trẻ em chơi ở đầu hẻm. Đề nghị "
                    "lắp 2 gờ giảm tốc, kinh phí do các hộ trong hẻm tự nguyện đóng góp (dự kiến 3 triệu đồng).",
            name=register[-1].representative, address=register[-1].address, now=start)
        service.open_for_support(session, SYSTEM, collecting, now=start + 2 * day)
        paper = [h.id for h in register[-1 - max(0, min(4, needed - 1)):-1]]
        if paper:
            service.record_paper_supports(session, SYSTEM, collecting, paper, now=start + 6 * day)
        # Two supports given online, for the head to find in the register.
        for household, code in ((register[len(register) // 2], True), (register[len(register) // 3], False)):
            service.add_online_support(session, collecting, name=household.representative, address=household.address,
                                       household_code=household.code if code else None, now=start + 8 * day)
    session.flush()
    return lines
