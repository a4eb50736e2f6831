"""Sign-up, e-mail confirmation, login, profile and password reset, in Arabic and in English."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.utils import translation

from accounts.models import Persona, Segment, User
from tests.factories import PASSWORD, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Qatar-Portal-Pass-2026!"
DIR = {"ar": "rtl", "en": "ltr"}


def t(lang, message):
    with translation.override(lang):
        return str(translation.gettext(message))


def html_tag(response):
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def link_in(body, path_start):
    match = re.search(r"https?://testserver(" + re.escape(path_start) + r"\S*)", body)
    assert match, f"no link starting with {path_start} in:\n{body}"
    return match.group(1)


def signup_data(**overrides):
    data = {
        "email": "Noor.Ali@Example.QA",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "full_name": "Noor Ali",
        "segment": "citizen",
        "personas": ["parent", "employee"],
        "identity_number": "29063400077",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Sign-up and e-mail confirmation
# ---------------------------------------------------------------------------


def test_signup_page_renders_the_identity_fields(client, lang):
    response = client.get(f"/{lang}/accounts/signup/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("email", "password1", "password2", "full_name", "segment", "personas", "identity_number"):
        assert f'name="{name}"' in html
    assert f'dir="{DIR[lang]}"' in html_tag(response)


def test_signup_creates_the_user_and_requires_email_confirmation(client, lang, mailoutbox):
    response = client.post(f"/{lang}/accounts/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/confirm-email/"

    user = User.objects.get()
    assert user.email == "noor.ali@example.qa"
    assert user.full_name == "Noor Ali"
    assert user.segment == Segment.CITIZEN
    assert user.personas == [Persona.PARENT, Persona.EMPLOYEE]
    assert user.identity_number == "29063400077"
    assert user.preferred_language == lang
    assert not user.is_verified
    assert user.check_password(NEW_PASSWORD)
    assert logged_in_user_id(client) is None

    # One e-mail, in the page's language, with a confirmation link in that language.
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["noor.ali@example.qa"]
    assert mail.subject == t(lang, "Confirm your e-mail address")
    confirm_url = link_in(mail.body, f"/{lang}/accounts/confirm-email/")
    assert not EmailAddress.objects.get(user=user).verified

    # Login is blocked until the address is confirmed.
    client.logout()
    response = client.post(f"/{lang}/accounts/login/", {"login": "noor.ali@example.qa", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/confirm-email/"
    assert logged_in_user_id(client) is None

    # Follow the link from the e-mail and confirm.
    assert client.get(confirm_url).status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    response = client.post(f"/{lang}/accounts/login/", {"login": "Noor.Ali@example.qa", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/"
    assert logged_in_user_id(client) == str(user.pk)


def test_signup_with_lower_case_passport_and_spaces_stores_it_normalised(client, lang):
    response = client.post(
        f"/{lang}/accounts/signup/",
        signup_data(segment="visitor", personas=["student"], identity_number=" px123456 "),
    )
    assert response.status_code == 302
    assert User.objects.get().identity_number == "PX123456"


def test_invalid_signup_shows_errors_in_the_pages_language(client, lang, mailoutbox):
    response = client.post(
        f"/{lang}/accounts/signup/",
        signup_data(full_name="", segment="citizen", personas=["tourist"], identity_number="29035600077"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{lang}"' in html_tag(response)
    assert not User.objects.exists()
    assert mailoutbox == []

    # Django's own message, from Django's catalogue.
    required = t(lang, "This field is required.")
    assert required in html
    if lang == "ar":
        assert required == "هذا الحقل مطلوب."
        assert "This field is required." not in html

    # The portal's own messages, from locale/ar.
    summary = t(lang, "There is a problem")
    not_citizen = t(lang, "This Qatar ID number belongs to a resident, not a citizen. Choose “Resident”.")
    for message in (summary, not_citizen):
        assert message in html
    if lang == "ar":
        assert summary != "There is a problem", "the Arabic catalogue lacks the error summary title"
        assert "This Qatar ID number belongs to a resident" not in html


def test_signup_with_an_identity_number_already_registered_does_not_say_so(client, lang):
    """The whole case (account without the number, a case for staff, an e-mail) is in test_identity_claims.py."""
    UserFactory(segment=Segment.CITIZEN, identity_number="29063400077")
    response = client.post(f"/{lang}/accounts/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/confirm-email/"
    assert User.objects.count() == 2


def test_signup_refuses_mismatched_passwords(client, lang):
    response = client.post(f"/{lang}/accounts/signup/", signup_data(password2="Something-else-2026!"))
    assert response.status_code == 200
    assert not User.objects.exists()


# ---------------------------------------------------------------------------
# Login
# ---------------------------------------------------------------------------


def test_login_page_has_the_languages_direction(client, lang):
    response = client.get(f"/{lang}/accounts/login/")
    assert response.status_code == 200
    tag = html_tag(response)
    assert f'lang="{lang}"' in tag
    assert f'dir="{DIR[lang]}"' in tag
    stylesheet = "bootstrap.rtl.min.css" if lang == "ar" else "bootstrap.min.css"
    assert stylesheet in response.content.decode()


def test_login_with_confirmed_email_works(client, lang):
    user = UserFactory()
    response = client.post(f"/{lang}/accounts/login/", {"login": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/"
    assert logged_in_user_id(client) == str(user.pk)


def test_login_with_wrong_password_fails(client, lang):
    user = UserFactory()
    response = client.post(f"/{lang}/accounts/login/", {"login": user.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert logged_in_user_id(client) is None


def test_login_goes_to_next(client, lang):
    user = UserFactory()
    response = client.post(
        f"/{lang}/accounts/login/?next=/{lang}/profile/", {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/profile/"


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------


def test_profile_requires_login(client, lang):
    response = client.get(f"/{lang}/profile/")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/login/?next=/{lang}/profile/"


def test_profile_shows_the_person(client, lang):
    user = UserFactory(segment=Segment.CITIZEN, personas=[Persona.PARENT])
    client.force_login(user)
    response = client.get(f"/{lang}/profile/")
    assert response.status_code == 200
    html = response.content.decode()
    assert user.email in html
    assert f'value="{user.identity_number}"' in html
    assert t(lang, "My profile") in html
    assert f'dir="{DIR[lang]}"' in html_tag(response)


def profile_post(user, **changes):
    data = {
        "full_name": user.full_name,
        "segment": user.segment,
        "personas": [p.value for p in user.personas],
        "identity_number": user.identity_number,
        "preferred_language": user.preferred_language,
    }
    data.update(changes)
    return data


def test_profile_edit_saves_and_keeps_verification_for_a_new_name(client, lang):
    user = VerifiedUserFactory(segment=Segment.CITIZEN)
    client.force_login(user)
    response = client.post(f"/{lang}/profile/", profile_post(user, full_name="Maryam Al-Kuwari"), follow=True)
    assert response.redirect_chain == [(f"/{lang}/profile/", 302)]
    html = response.content.decode()
    assert t(lang, "Your profile has been saved.") in html
    assert t(lang, "You changed your segment or identity number, so your identity must be verified again.") not in html
    user.refresh_from_db()
    assert user.full_name == "Maryam Al-Kuwari"
    assert user.is_verified


def test_profile_edit_of_identity_number_warns_and_resets_verification(client, lang):
    user = VerifiedUserFactory(segment=Segment.CITIZEN)
    client.force_login(user)
    response = client.post(f"/{lang}/profile/", profile_post(user, identity_number="29063400099"), follow=True)
    html = response.content.decode()
    assert t(lang, "You changed your segment or identity number, so your identity must be verified again.") in html
    user.refresh_from_db()
    assert user.identity_number == "29063400099"
    assert not user.is_verified


def test_profile_edit_with_errors_shows_them_and_saves_nothing(client, lang):
    user = UserFactory(segment=Segment.RESIDENT)
    client.force_login(user)
    response = client.post(f"/{lang}/profile/", profile_post(user, personas=["tourist"]))
    assert response.status_code == 200
    assert t(lang, "There is a problem") in response.content.decode()
    user.refresh_from_db()
    assert user.personas == []


# ---------------------------------------------------------------------------
# Password reset
# ---------------------------------------------------------------------------


def test_password_reset_sends_a_working_link(client, lang, mailoutbox):
    user = UserFactory()
    response = client.get(f"/{lang}/accounts/password/reset/")
    assert response.status_code == 200
    assert f'dir="{DIR[lang]}"' in html_tag(response)

    response = client.post(f"/{lang}/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/accounts/password/reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    reset_url = link_in(mailoutbox[0].body, f"/{lang}/accounts/password/reset/key/")

    response = client.get(reset_url, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0] if response.redirect_chain else reset_url
    response = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
