"""The e-mail that confirms a new address: it greets the person by name and is signed by the portal, never
by the site's domain or a user name (issue 12, "the verification e-mail")."""

import re

import pytest

from tests.accounts.test_views import signup_data

pytestmark = pytest.mark.django_db

GREETING = {"ar": "مرحبًا Noor Ali،", "en": "Hello Noor Ali,"}
SIGNATURE = {"ar": "حكومي - المشاركة الإلكترونية", "en": "Hukoomi e-Participation"}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_confirmation_email_greets_by_name_and_signs_as_the_portal(client, lang, mailoutbox):
    client.post(f"/{lang}/accounts/signup/", signup_data())
    (message,) = mailoutbox
    body = message.body
    assert body.startswith(GREETING[lang])
    assert body.rstrip().endswith(SIGNATURE[lang])
    assert re.search(rf"https?://[^/\s]+/{lang}/accounts/confirm-email/\S+/", body)
    without_link = re.sub(r"https?://\S+", "", body)
    assert "testserver" not in without_link and "example.com" not in without_link
    assert "noor.ali@example.qa" not in without_link
