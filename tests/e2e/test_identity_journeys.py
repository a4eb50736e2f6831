"""Identity journeys in a real browser.

1. On a phone, in Arabic: a citizen signs up with e-mail, sees where the identity check stands (on the
   referendum and the profile), a verifier approves them in the admin, and the citizen votes.
2. On a desktop, in English: a person signs in with the national digital identity against the real local
   OpenID Connect provider (tests/oidc_provider/), and is verified at once.
"""

import re

import pytest

from accounts.models import User, VerificationDecision
from hukoomi_portal.settings import allow_identity_provider_forms
from participation.models import ReferendumParticipation
from tests.accounts.oidc import PROVIDER_PASSWORD, start_provider
from tests.builders import scenarios, users
from tests.e2e.ui import admin_sign_in, expect
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/(?:ar|en)/accounts/confirm-email/[^/\s]+/)")


@pytest.mark.parametrize("lang", ["ar"])
def test_on_a_phone_a_citizen_signs_up_waits_is_approved_and_votes(lang, new_context, mailoutbox, a11y, t):
    referendum = scenarios.open_referendum()
    verifier = users.make_staff(users.VERIFIERS, email="verifier@gov.example.qa", full_name="Hamad Al-Naimi")
    email = "maryam.phone@example.qa"
    page = new_context(lang).new_page()
    page.set_viewport_size(PHONE)

    # Sign up with e-mail, on the phone.
    page.goto(f"/{lang}/accounts/signup/")
    form = page.locator("main form").filter(has=page.locator("input[name=password1]"))
    form.locator("input[name=full_name]").fill("مريم الكواري")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=segment][value=citizen]").check()
    form.locator("input[name=identity_number]").fill("29763400011")
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/{lang}/accounts/confirm-email/$"))
    link = CONFIRM_LINK.search(mailoutbox[-1].body)
    page.goto(link.group(1))
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()

    # The referendum says where the check stands, and leads somewhere.
    page.goto(f"/{lang}/referendums/{referendum.slug}/")
    status = page.locator("#verification-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text(t("Waiting for a check"))
    expect(status).to_contain_text(t("Who decides"))
    expect(status).to_contain_text(t("Expected answer"))
    expect(status).to_contain_text(t("Meanwhile"))
    expect(status.get_by_role("link", name=t("See what is open to you now"))).to_be_visible()
    a11y.check(page, "referendum, waiting for a check (phone)")
    page.goto(f"/{lang}/profile/")
    expect(page.locator("#verification-status")).to_contain_text(t("Waiting for a check"))
    a11y.check(page, "profile, waiting for a check (phone)")

    # A verifier approves in the admin (a desktop, another browser).
    admin = new_context(lang).new_page()
    admin_sign_in(admin, verifier)
    admin.goto("/admin/accounts/pendingverification/")
    admin.get_by_role("link", name="مريم الكواري").click()
    admin.locator("input[name=decision][value=approve]").check()
    admin.locator("input[name=_save]").click()
    expect(admin).to_have_url(re.compile(r"/admin/accounts/pendingverification/$"))
    person = User.objects.get(email=email)
    assert person.is_verified
    decision = VerificationDecision.objects.get(person=person)
    assert decision.decided_by == verifier
    approval = mailoutbox[-1]
    assert (
        approval.to == [email] and "مريم الكواري" in approval.body and "حكومي - المشاركة الإلكترونية" in approval.body
    )

    # Back on the phone: the person votes.
    page.goto(f"/{lang}/referendums/{referendum.slug}/")
    expect(page.locator("#verification-status")).to_have_count(0)
    page.get_by_role("radio", name="نعم", exact=True).check()
    page.get_by_role("button", name=t("Continue")).click()  # "check your answer" first
    page.get_by_role("button", name=t("Cast my vote")).click()
    expect(page.get_by_role("status").first).to_contain_text(t("Your vote has been counted"))
    assert ReferendumParticipation.objects.filter(item=referendum, voter=person).exists()
    a11y.check(page, "voted (phone)")
    a11y.assert_clean()


@pytest.mark.parametrize("lang", ["en"])
def test_on_a_desktop_a_person_signs_in_with_the_national_digital_identity(lang, page, live_server, settings, a11y, t):
    provider = start_provider([f"{live_server.url}/en/accounts/oidc/national/login/callback/"])
    try:
        settings.SOCIALACCOUNT_PROVIDERS = provider.portal_settings()
        # What settings.py does with PORTAL_OIDC_SERVER_URL: the button's redirect may leave for the provider.
        settings.CONTENT_SECURITY_POLICY = allow_identity_provider_forms(
            settings.CONTENT_SECURITY_POLICY, provider.server_url
        )
        page.goto("/en/accounts/login/")
        a11y.check(page, "sign in, national identity first")
        page.get_by_role("button", name=t("Sign in with the national digital identity")).click()

        # The provider's own sign-in page.
        expect(page).to_have_url(re.compile(rf"^{re.escape(provider.url)}/login/"))
        page.locator("input[name=username]").fill("rahul")
        page.locator("input[name=password]").fill(PROVIDER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        # Back on the portal, signed in and verified.
        expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/en/"))
        expect(page.locator("body")).to_contain_text(t("Your identity is verified with the national digital identity."))
        person = User.objects.get(email="rahul@example.qa")
        assert (person.segment, person.is_verified, person.verification_method) == ("resident", True, "national_sso")
        page.goto("/en/profile/")
        expect(page.locator("#verification-status")).to_contain_text(t("by the national digital identity"))
        a11y.check(page, "profile, verified")
        a11y.assert_clean()
    finally:
        provider.stop()
