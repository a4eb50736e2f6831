"""The connected-accounts page names the national digital identity in the reader's language."""

import pytest
from django.test import override_settings

from hukoomi_portal.settings import national_identity_providers
from tests.accounts.test_wording import english_sentences, main_text
from tests.factories import VerifiedUserFactory

pytestmark = pytest.mark.django_db

PROVIDERS = national_identity_providers("https://id.example.gov.qa", "portal", "not-a-secret")


@pytest.mark.parametrize(("lang", "name"), [("ar", "الهوية الرقمية الوطنية"), ("en", "National digital identity")])
def test_the_provider_is_named_in_the_page_language(client, lang, name):
    client.force_login(VerifiedUserFactory())
    with override_settings(SOCIALACCOUNT_PROVIDERS=PROVIDERS):
        response = client.get(f"/{lang}/accounts/3rdparty/")
    assert response.status_code == 200
    text = main_text(response)
    assert name in text
    if lang == "ar":
        assert english_sentences(text) == []
