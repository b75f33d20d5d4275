def test_home_page_renders(client, db):
    assert client.get("/").status_code == 200
