"""Each person gets the portal's emails in the language they chose with the switcher."""

from django.core import mail
from django.utils import translation

from reviews import notifications


def test_each_member_reads_the_email_in_their_language(in_review, alice, bob):
    alice.language = "ja"
    alice.save(update_fields=["language"])
    with translation.override("ja"):
        japanese = translation.gettext("Dossier %(reference)s is in review") % {
            "reference": in_review.reference
        }
    assert japanese != f"Dossier {in_review.reference} is in review"

    sent = notifications.email_organisation(in_review, "in_review")

    assert sent == 2
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[alice.email] == japanese
    assert subjects[bob.email] == f"Dossier {in_review.reference} is in review"
    assert translation.get_language() == "en"


def test_the_switcher_keeps_the_choice_on_the_account(client, alice):
    client.force_login(alice)
    response = client.post("/language/", {"language": "ja", "next": "/dossiers/"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.language == "ja"

    client.post("/language/", {"language": "xx", "next": "/dossiers/"})  # not offered
    alice.refresh_from_db()
    assert alice.language == "ja"
