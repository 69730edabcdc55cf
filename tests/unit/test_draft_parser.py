"""The draft parser against both seed documents, checked part by part by hand.

Expectations below were written by reading the seeds, not by running the parser.
"""


import pytest

from consult.consultations.parser import DraftParseError, parse_draft, text_from_docx
from tests.support.helpers import SEEDS

BINH_AN = SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt"
MUONG_KIM = SEEDS / "muong-kim-to-trinh-va-du-thao-nghi-quyet.txt"

# Điều → {khoản: points}, as a reader finds them.
BINH_AN_STRUCTURE = {
    "1": {"1": "abc", "2": "abcd", "3": ["a", "b", "c", "d", "đ", "e"], "4": "abc", "5": "abcd"},
    "2": {},
    "3": {"1": "", "2": ""},
}
MUONG_KIM_STRUCTURE = {
    "1": {"1": "", "2": "abc"},
    "2": {"1": "", "2": ""},
    "3": {"1": "", "2": "", "3": "", "4": "", "5": ""},
    "4": {"1": "abc", "2": "abc", "3": "abcd", "4": "abc", "5": "abc", "6": "ab"},
    "5": {},
    "6": {"1": "", "2": "", "3": ""},
    "7": {},
}


def _structure(parsed):
    result = {}
    for article in parsed.parts:
        assert article.kind == "article"
        result[article.number] = {}
        for clause in article.children:
            assert clause.kind == "clause"
            assert all(p.kind == "point" and not p.children for p in clause.children)
            result[article.number][clause.number] = [p.number for p in clause.children]
    return result


def _expected(structure):
    return {a: {k: list(points) for k, points in clauses.items()} for a, clauses in structure.items()}


@pytest.fixture(scope="module")
def binh_an():
    return parse_draft(BINH_AN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def muong_kim():
    return parse_draft(MUONG_KIM.read_text(encoding="utf-8"))


def _find(parsed, label):
    return next(n for n in parsed.walk() if n.label == label)


def test_binh_an_articles_clauses_points(binh_an):
    assert _structure(binh_an) == _expected(BINH_AN_STRUCTURE)


def test_muong_kim_articles_clauses_points(muong_kim):
    assert _structure(muong_kim) == _expected(MUONG_KIM_STRUCTURE)


def test_binh_an_titles_without_markdown(binh_an):
    titles = [a.title for a in binh_an.parts]
    assert titles == [
        "Thông qua các biện pháp bảo đảm thực hiện dân chủ ở cơ sở trên địa bàn phường Bình An, như sau:",
        "Kinh phí thực hiện",
        "Tổ chức thực hiện",
    ]
    assert all("*" not in n.title + n.text for n in binh_an.walk())


def test_muong_kim_titles(muong_kim):
    assert [a.title for a in muong_kim.parts] == [
        "Phạm vi điều chỉnh, đối tượng áp dụng", "Nguyên tắc", "Mục tiêu", "Biện pháp thực hiện",
        "Nguồn kinh phí thực hiện", "Trách nhiệm tổ chức thực hiện", "Điều khoản thi hành",
    ]


def test_preamble_holds_cover_letter_and_bases_not_parts(binh_an, muong_kim):
    assert binh_an.preamble.startswith("ỦY BAN NHÂN DÂN")
    assert "Số: 491 /UBND" in binh_an.preamble
    assert "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022;" in binh_an.preamble
    assert binh_an.preamble.rstrip().endswith("QUYẾT NGHỊ:")
    # The tờ trình, its own I.–IV. sections and its copy of the articles, stay in the preamble.
    assert "I. SỰ CẦN THIẾT BAN HÀNH NGHỊ QUYẾT" in muong_kim.preamble
    assert "Nghị quyết được bố cục gồm có 07 Điều." in muong_kim.preamble
    assert muong_kim.preamble.rstrip().endswith("QUYẾT NGHỊ:")


def test_closing_text_is_kept_apart(binh_an, muong_kim):
    assert binh_an.closing.startswith("Nghị quyết này đã được Hội đồng nhân dân phường Bình An khóa XII")
    assert "Nơi nhận:" in binh_an.closing and binh_an.closing.rstrip().endswith("Trần Thị Thùy Trang")
    assert "thông qua" not in _find(binh_an, "Điều 3, khoản 2").text
    assert muong_kim.closing.startswith("Nơi nhận:")
    assert muong_kim.closing.rstrip().endswith("Nguyễn Văn Thắng")
    # Điều 7 has no clauses: the formula is the article's own text.
    assert _find(muong_kim, "Điều 7").text.startswith("Nghị quyết này được Hội đồng nhân dân xã Mường Kim")


def test_page_break_joined_back(binh_an, muong_kim):
    point_b = _find(binh_an, "Điều 1, khoản 1, điểm b").text
    assert "quan tâm, tạo điều kiện, cử cán bộ" in point_b and "\n" not in point_b
    assert _find(binh_an, "Điều 1, khoản 5, điểm b").text.endswith(
        "bảo đảm phù hợp với mức độ ứng dụng công nghệ thông tin của cơ quan, đơn vị, tổ chức trong việc tổ chức thực hiện dân chủ ở cơ sở.")
    assert _find(muong_kim, "Điều 4, khoản 1, điểm b").text.endswith("tổ chức thực hiện pháp luật về dân chủ ở cơ sở.")
    assert _find(muong_kim, "Điều 6, khoản 3").text.endswith("giám sát theo quy định của pháp luật.")
    assert "cho việc tổ chức thực hiện dân chủ" in _find(muong_kim, "Điều 4, khoản 5").text


def test_wrapped_lines_joined_in_clause(binh_an):
    assert _find(binh_an, "Điều 1, khoản 1").text == (
        "Bồi dưỡng nâng cao năng lực chuyên môn, nghiệp vụ cho người được giao nhiệm vụ tổ chức "
        "thực hiện pháp luật về thực hiện dân chủ ở cơ sở")


def test_clause_heading_and_following_paragraph(muong_kim):
    assert _find(muong_kim, "Điều 1, khoản 1").text == (
        "Phạm vi điều chỉnh\nNghị quyết này quy định nguyên tắc, mục tiêu và các biện pháp bảo đảm thực hiện "
        "dân chủ ở cơ sở tại các cơ quan, đơn vị, tổ chức trên địa bàn xã Mường Kim.")


def test_consecutive_clause_lines_without_blank_line_split(muong_kim):
    clauses = _find(muong_kim, "Điều 6").children
    assert [c.text[:25] for c in clauses] == ["Giao Ủy ban nhân dân xã c", "Giao Thường trực Hội đồng",
                                              "Đề nghị Ủy ban Mặt trận T"]


def test_vietnamese_letter_dd_point_has_its_own_anchor(binh_an):
    point = _find(binh_an, "Điều 1, khoản 3, điểm đ")
    assert point.number == "đ" and point.anchor == "dieu-1-khoan-3-diem-dd"
    assert _find(binh_an, "Điều 1, khoản 3, điểm d").anchor == "dieu-1-khoan-3-diem-d"
    anchors = [n.anchor for n in binh_an.walk()]
    assert len(anchors) == len(set(anchors))


def test_labels_read_as_a_person_cites_them(binh_an):
    labels = [n.label for n in binh_an.walk()]
    assert "Điều 1, khoản 5, điểm d" in labels and "Điều 2" in labels and "Điều 3, khoản 1" in labels


PLAN = """ỦY BAN NHÂN DÂN XÃ MƯỜNG KIM

KẾ HOẠCH
## Tổ chức lấy ý kiến Nhân dân

Căn cứ Luật Thực hiện dân chủ ở cơ sở năm 2022;

I. **MỤC ĐÍCH, YÊU CẦU**

1. Mục đích
- Bảo đảm quyền được biết của Nhân dân;
- Phát huy dân chủ.

2. Yêu cầu
a) Đúng quy định;
b) Tiết kiệm, hiệu quả, kết thúc trước ngày 31/12/
2025; không kéo dài.

II. NỘI DUNG

1. Thời gian: từ ngày 01/12/2025.
2. Hình thức: họp dân và phát phiếu.

III. TỔ CHỨC THỰC HIỆN

Giao Văn phòng HĐND và UBND xã chủ trì./.

Nơi nhận:
- Lưu: VT.
"""


def test_roman_sections_of_a_plan_with_bullets_and_markdown():
    parsed = parse_draft(PLAN)
    assert [(s.kind, s.number, s.title) for s in parsed.parts] == [
        ("section", "I", "MỤC ĐÍCH, YÊU CẦU"), ("section", "II", "NỘI DUNG"),
        ("section", "III", "TỔ CHỨC THỰC HIỆN")]
    first = parsed.parts[0]
    assert [c.number for c in first.children] == ["1", "2"]
    assert first.children[0].text == "Mục đích\n- Bảo đảm quyền được biết của Nhân dân;\n- Phát huy dân chủ."
    assert [p.number for p in first.children[1].children] == ["a", "b"]
    assert first.children[1].children[1].label == "Mục II, khoản 2, điểm b".replace("II", "I")
    assert parsed.parts[2].text == "Giao Văn phòng HĐND và UBND xã chủ trì./."
    assert "Tổ chức lấy ý kiến Nhân dân" in parsed.preamble and "##" not in parsed.preamble
    assert parsed.closing.startswith("Nơi nhận:")
    # "2025;" on a wrapped line is not a clause.
    assert "2025; không kéo dài" in first.children[1].children[1].text


CHAPTERS = """QUY CHẾ
Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi
Quy chế này quy định...

Điều 2. Đối tượng
1. Cán bộ.
2. Nhân dân.

Chương II
TỔ CHỨC THỰC HIỆN

Mục 1. HỌP DÂN

Điều 3. Họp
a) Triệu tập;
b) Chủ trì.
"""


def test_chapters_sections_and_points_directly_under_an_article():
    parsed = parse_draft(CHAPTERS)
    assert [(c.kind, c.number, c.title) for c in parsed.parts] == [
        ("chapter", "I", "NHỮNG QUY ĐỊNH CHUNG"), ("chapter", "II", "TỔ CHỨC THỰC HIỆN")]
    assert [a.label for a in parsed.parts[0].children] == ["Điều 1", "Điều 2"]
    section = parsed.parts[1].children[0]
    assert (section.kind, section.number, section.title, section.label) == ("section", "1", "HỌP DÂN", "Chương II, Mục 1")
    article = section.children[0]
    assert article.label == "Điều 3" and [p.label for p in article.children] == ["Điều 3, điểm a", "Điều 3, điểm b"]
    assert parsed.preamble == "QUY CHẾ"


def test_a_text_without_parts_is_refused_in_vietnamese():
    with pytest.raises(DraftParseError, match="Không tìm thấy phần nào"):
        parse_draft("Kính gửi: Nhân dân.\n\nĐề nghị góp ý.")


def _docx_of(text):
    import io

    from docx import Document
    from docx.enum.text import WD_BREAK

    document = Document()
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        paragraph = document.add_paragraph()
        lines = block.split("\n")
        for i, line in enumerate(lines):
            run = paragraph.add_run(line)
            if i < len(lines) - 1:
                run.add_break(WD_BREAK.LINE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("seed", [BINH_AN, MUONG_KIM], ids=["binh-an", "muong-kim"])
def test_docx_of_the_same_text_parses_the_same(seed):
    text = seed.read_text(encoding="utf-8")
    from_text = parse_draft(text)
    from_docx = parse_draft(text_from_docx(_docx_of(text)))
    assert from_docx.to_dict()["parts"] == from_text.to_dict()["parts"]
    assert from_docx.closing == from_text.closing
