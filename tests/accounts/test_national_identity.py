"""Signing in with the national digital identity, against a real OpenID Connect provider.

The provider is tests/oidc_provider/ (django-oauth-toolkit), started in a subprocess on a free
loopback port: allauth fetches its discovery document, exchanges the code at its token endpoint
(PKCE, client secret) and reads the RS256-signed ID token it issues. Nothing in allauth is mocked.
"""

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.models import IdentityClaim, Segment, User
from hukoomi_portal.settings import national_identity_providers
from participation.models import AuditEntry
from tests.accounts.oidc import CLIENT_ID, CLIENT_SECRET, PEOPLE, free_port, start_provider
from tests.factories import PASSWORD, UserFactory

LANGS = ("ar", "en")


@pytest.fixture(scope="module")
def provider():
    started = start_provider([f"http://testserver/{lang}/accounts/oidc/national/login/callback/" for lang in LANGS])
    yield started
    started.stop()


@pytest.fixture
def national_identity(settings, provider):
    settings.SOCIALACCOUNT_PROVIDERS = provider.portal_settings()
    return provider


def sign_in(client, provider, username, lang="ar", process="login", next_url=None):
    """Press the portal's button, sign in at the provider, come back: the portal's response (redirects followed)."""
    data = {"process": process}
    if next_url:
        data["next"] = next_url
    response = client.post(f"/{lang}/accounts/oidc/national/login/", data)
    assert response.status_code == 302, response.content[:500]
    callback = urlsplit(provider.sign_in(response["Location"], username))
    assert callback.path == f"/{lang}/accounts/oidc/national/login/callback/"
    return client.get(f"{callback.path}?{callback.query}", follow=True)


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_sign_up_creates_a_verified_citizen_from_the_id_token(client, national_identity, lang):
    response = sign_in(client, national_identity, "noura", lang=lang)
    assert response.status_code == 200
    user = User.objects.get(email="noura@example.qa")
    assert signed_in_user(client) == user
    assert user.full_name == PEOPLE["noura"]["name"]
    assert user.segment == Segment.CITIZEN
    assert user.identity_number == "28763400001"
    assert user.is_verified and user.verification_method == User.VerificationMethod.NATIONAL_SSO
    assert user.preferred_language == lang
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.filter(user=user, provider="national").exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VERIFY, object_id=str(user.pk))
    assert entry.details == {"method": "national_sso"}
    expected = {"ar": "تم التحقق من هويتك عبر الهوية الرقمية الوطنية.", "en": "Your identity is verified with the national digital identity."}
    assert expected[lang] in response.content.decode()


@pytest.mark.django_db
def test_a_resident_is_a_resident(client, national_identity):
    sign_in(client, national_identity, "rahul", lang="en")
    user = User.objects.get(email="rahul@example.qa")
    assert (user.segment, user.identity_number, user.is_verified) == (Segment.RESIDENT, "29035600002", True)


@pytest.mark.django_db
def test_log_in_again_uses_the_same_account(client, national_identity):
    sign_in(client, national_identity, "noura")
    first = signed_in_user(client)
    client.post("/ar/accounts/logout/")
    assert signed_in_user(client) is None
    sign_in(client, national_identity, "noura")
    assert signed_in_user(client) == first
    assert User.objects.filter(email="noura@example.qa").count() == 1
    assert SocialAccount.objects.filter(provider="national").count() == 1
    # Verified once: a second sign-in adds nothing to the trail.
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VERIFY, object_id=str(first.pk)).count() == 1


@pytest.mark.django_db
def test_an_existing_email_account_is_linked_and_verified(client, national_identity):
    existing = UserFactory(email="mariam@example.qa", full_name="Mariam K.", segment="", identity_number="")
    sign_in(client, national_identity, "mariam", lang="en")
    existing.refresh_from_db()
    assert signed_in_user(client) == existing
    assert User.objects.filter(email="mariam@example.qa").count() == 1
    assert SocialAccount.objects.get(provider="national").user == existing
    # Empty fields are filled from the token; the name the person chose stays.
    assert (existing.full_name, existing.segment, existing.identity_number) == ("Mariam K.", Segment.CITIZEN, "29563400003")
    assert existing.is_verified
    # The password still works: e-mail log-in stays open to the linked account.
    client.post("/en/accounts/logout/")
    response = client.post("/en/accounts/login/", {"login": "mariam@example.qa", "password": PASSWORD})
    assert response.status_code == 302 and signed_in_user(client) == existing


@pytest.mark.django_db
def test_a_signed_in_person_can_connect_the_identity_from_their_profile(client, national_identity):
    person = UserFactory(email="layla.personal@example.qa", segment=Segment.CITIZEN, identity_number="29163400007")
    client.force_login(person)
    response = sign_in(client, national_identity, "layla", lang="en", process="connect", next_url="/en/profile/")
    person.refresh_from_db()
    assert person.is_verified and person.verification_method == User.VerificationMethod.NATIONAL_SSO
    assert SocialAccount.objects.get(provider="national").user == person
    assert response.request["PATH_INFO"] == "/en/profile/"
    assert "Verified" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_a_claim_that_contradicts_the_profile_overwrites_nothing(client, national_identity, lang):
    person = UserFactory(email="khalid@example.qa", full_name="Khalid", segment=Segment.RESIDENT, identity_number="30135600044")
    response = sign_in(client, national_identity, "khalid", lang=lang)
    person.refresh_from_db()
    assert signed_in_user(client) == person
    assert (person.segment, person.identity_number, person.is_verified) == (Segment.RESIDENT, "30135600044", False)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.VERIFY).exists()
    page = response.content.decode()
    expected = {
        "ar": "لا يتطابق ملفك الشخصي مع هويتك الرقمية الوطنية، لذا لم نغيّر شيئًا ولم يتم التحقق من هويتك.",
        "en": "Your profile does not match your national digital identity, so we changed nothing and your identity is not verified.",
    }
    assert expected[lang] in page
    assert "…0044" in page and "…0004" in page


@pytest.mark.django_db
def test_a_number_held_by_another_account_is_neither_given_twice_nor_revealed(client, national_identity):
    holder = UserFactory(email="someone.else@example.qa", identity_number="28463400005")
    response = sign_in(client, national_identity, "fatima", lang="en")
    newcomer = User.objects.get(email="fatima@example.qa")
    holder.refresh_from_db()
    assert signed_in_user(client) == newcomer
    assert holder.identity_number == "28463400005"
    assert newcomer.identity_number == "" and not newcomer.is_verified
    claim = IdentityClaim.objects.get()
    assert (claim.claimant, claim.holder, claim.identity_number) == (newcomer, holder, "28463400005")
    page = response.content.decode()
    assert "Ministry staff will look into it" in page
    assert holder.email not in page and "another account" not in page


@pytest.mark.django_db
def test_without_an_email_address_the_person_gives_one_and_nothing_else(client, national_identity, mailoutbox):
    response = sign_in(client, national_identity, "hessa", lang="en")
    assert response.request["PATH_INFO"] == "/en/accounts/3rdparty/signup/"
    page = response.content.decode()
    assert 'name="email"' in page
    assert 'name="identity_number"' not in page and 'name="segment"' not in page
    response = client.post("/en/accounts/3rdparty/signup/", {"email": "hessa@example.qa"}, follow=True)
    person = User.objects.get(email="hessa@example.qa")
    assert (person.full_name, person.segment, person.identity_number) == ("Hessa Al-Mannai", Segment.CITIZEN, "29263400008")
    assert person.is_verified and person.preferred_language == "en"
    # The address itself still has to be confirmed, as at any sign-up.
    assert not EmailAddress.objects.get(user=person).verified
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["hessa@example.qa"]


@pytest.mark.django_db
def test_a_token_whose_number_contradicts_its_nationality_signs_nobody_in(client, national_identity):
    response = sign_in(client, national_identity, "mismatch", lang="en")
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="omar@example.qa").exists()
    assert "did not give us a valid Qatar ID number" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_a_provider_that_is_down_gets_a_clear_page_and_email_login_still_works(client, settings, lang):
    settings.SOCIALACCOUNT_PROVIDERS = national_identity_providers(f"http://127.0.0.1:{free_port()}/o", CLIENT_ID, CLIENT_SECRET)
    response = client.post(f"/{lang}/accounts/oidc/national/login/", {"process": "login"})
    assert response.status_code == 503
    page = response.content.decode()
    expected = {
        "ar": "تعذّر علينا الوصول إلى خدمة الهوية الرقمية الوطنية",
        "en": "We could not reach the national digital identity service",
    }
    assert expected[lang] in page
    assert f'href="/{lang}/accounts/login/"' in page
    person = UserFactory()
    response = client.post(f"/{lang}/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302 and signed_in_user(client) == person


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_a_provider_that_fails_at_the_token_endpoint_gets_the_same_advice(client, settings, lang):
    provider = start_provider([f"http://testserver/{lang}/accounts/oidc/national/login/callback/"])
    try:
        settings.SOCIALACCOUNT_PROVIDERS = provider.portal_settings()
        response = client.post(f"/{lang}/accounts/oidc/national/login/", {"process": "login"})
        callback = urlsplit(provider.sign_in(response["Location"], "noura"))
    finally:
        provider.stop()
    response = client.get(f"{callback.path}?{callback.query}")
    page = response.content.decode()
    assert signed_in_user(client) is None
    assert {"ar": "تعذّر علينا الوصول إلى خدمة الهوية الرقمية الوطنية", "en": "We could not reach the national digital identity service"}[lang] in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_the_sign_in_page_shows_the_national_identity_first(client, national_identity, lang):
    page = client.get(f"/{lang}/accounts/login/").content.decode()
    button = page.index('id="national-identity-button"')
    assert button < page.index('name="password"')
    assert f'action="/{lang}/accounts/oidc/national/login/"' in page
    label = {"ar": "تسجيل الدخول بالهوية الرقمية الوطنية", "en": "Sign in with the national digital identity"}[lang]
    assert label in page


@pytest.mark.django_db
def test_without_a_provider_the_sign_in_page_has_only_email(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = client.get("/en/accounts/login/").content.decode()
    assert "national-identity-button" not in page and 'name="password"' in page
