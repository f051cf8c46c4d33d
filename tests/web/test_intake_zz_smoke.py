from tests.web.test_intake_support import *

def dump(name, r):
    open(f"/tmp/pages/{name}.html", "w").write(r.text)

def test_smoke(client, auth, app):
    import os; os.makedirs("/tmp/pages", exist_ok=True)
    auth.login_as("receptionist")
    key = new_draft(client)
    dump("draft_empty", client.get(f"/complaints/{key}"))
    r = save(client, app, key, "complainant", person(**{"complainant-name": ""}), htmx=False)
    assert r.status_code == 422
    dump("draft_422", r)
    r = client.post(f"/complaints/{key}/sections/complainant", data={"q": "李", "action": "search", "version": version(app, key)})
    dump("draft_search", r)
    key = complete_draft(client, app, language="en")
    dump("list", client.get("/complaints"))
    dump("draft_full", client.get(f"/complaints/{key}"))
    dump("readback", client.get(f"/complaints/{key}/read-back"))
    r = client.post(f"/complaints/{key}/confirmation-link", headers=HX)
    assert r.status_code == 200, r.text
    from portal.models import OutboxMessage
    with app.app_context():
        m = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind=="confirmation_request")).first()
        open("/tmp/pages/email.txt","w").write(m.subject + "\n\n" + m.body_text)
        open("/tmp/pages/email.html","w").write(m.body_html)
        url = re.search(r"http://localhost(/confirm/\S+)", m.body_text).group(1)
    auth.logout()
    dump("client_confirm", client.get(url))
    dump("client_bad", client.get(url + "x"))
    r = client.post(url, data={"action": "correct", "correction": ""})
    dump("client_422", r)
    r = client.post(url, data={"action": "confirm"})
    dump("client_done", r)
    dump("client_used", client.get(url))
