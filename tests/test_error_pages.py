"""403 pages say why, in the page's language, and offer a sign-in to people who have not signed in."""

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db

REASON = "Only auditors may download exports."


def _in(lang, text):
    with translation.override(lang):
        return translation.gettext(text)


def test_anonymous_403_gives_the_reason_and_a_sign_in_link(client, lang):
    response = client.get(f"/{lang}/audit/")
    body = response.content.decode()
    assert response.status_code == 403
    assert _in(lang, REASON) in body
    assert f"/{lang}/accounts/login/?next=/{lang}/audit/" in body
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in body


def test_signed_in_403_gives_the_reason_without_a_sign_in_button(client, lang, user):
    client.force_login(user)
    response = client.get(f"/{lang}/audit/")
    body = response.content.decode()
    assert response.status_code == 403
    assert _in(lang, REASON) in body
    assert "/accounts/login/?next=" not in body
