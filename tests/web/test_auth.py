from portal.db import db
from portal.models import AuditEvent


def test_login_page_is_chinese_by_default(client):
    client.language = None
    response = client.get("/login")
    assert response.status_code == 200
    assert 'lang="zh-CN"' in response.text
    assert "登录" in response.text


def test_wrong_password_is_401_and_audited(client, app):
    response = client.post("/login", data={"username": "partner", "password": "not-the-password"})
    assert response.status_code == 401
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="login.failed").count() == 1


def test_session_replay_after_logout_fails(client, auth, app):
    auth.login_as("partner")
    with client.session_transaction() as sess:
        stolen = dict(sess)
    assert client.get("/").status_code == 200
    auth.logout()
    with client.session_transaction() as sess:
        sess.update(stolen)
    response = client.get("/")
    assert response.status_code == 303
    assert "/login" in response.headers["Location"]
