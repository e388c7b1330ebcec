from tests.portal.test_invitations import *  # noqa

def test_peek(client, invite):
    path = invite(CAROL)
    r = client.post(path, _new_account(password="short", password_again="short"))
    print(r.text[r.text.index("<main"):r.text.index("</main>")])
