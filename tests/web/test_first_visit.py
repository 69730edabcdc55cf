"""A first visit says what the site is for, on the platform's home and on each commune's."""

from tests.support.helpers import make_commune


def test_the_home_pages_say_what_the_site_is_for(client, session):
    commune = make_commune(session)
    make_commune(session, "Mường Kim", kind="xa", province="Lai Châu")  # with one commune, "/" goes to it
    session.commit()
    home = client.get("/").get_data(as_text=True)
    assert "Luật Thực hiện dân chủ ở cơ sở" in home and "Chọn xã, phường của bạn" in home
    page = client.get(f"/c/{commune.slug}/").get_data(as_text=True)
    start = page.index('id="what-for"')
    said = page[start:page.index("</p>", start)]
    for words in ("Phường Bình An", "Luật Thực hiện dân chủ ở cơ sở", "góp ý các dự thảo", "biểu quyết", "đề xuất",
                  "công khai"):
        assert words in said, words
