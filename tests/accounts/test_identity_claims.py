"""Sign-up with an identity number that another account holds: the form does not say so, the account is
created without the number, the person is told by e-mail (in their language) that staff will contact them,
and staff resolve the case in the admin."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import claims
from accounts.models import IdentityClaim, Segment, User
from participation.models import AuditEntry
from participation.services import verification as decisions
from tests.factories import UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

NUMBER = "29063400077"
PASSWORD = "Qatar-Portal-Pass-2026!"
STAFF_MESSAGE = (
    "We could not add the identity number you gave to your account yet. Our staff will check it and contact you "
    "at this e-mail address. You do not need to do anything now."
)
TAKEN_MESSAGE = "An account with this identity number already exists. Sign in to it instead."


def t(lang, message):
    with translation.override(lang):
        return str(translation.gettext(message))


def sign_up(client, lang, email, number=NUMBER):
    return client.post(
        f"/{lang}/accounts/signup/",
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "full_name": "Noor Ali",
            "segment": "citizen",
            "identity_number": number,
        },
    )


@pytest.fixture
def holder(db):
    return UserFactory(segment=Segment.CITIZEN, identity_number=NUMBER, email="holder@example.qa")


def test_the_answer_is_the_same_as_for_a_free_number(client, lang, holder):
    def shown(response, email):
        html = client.get(response["Location"]).content.decode().replace(email, "<email>")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    free = sign_up(client, lang, "free@example.qa", number="29063400088")
    free_page = shown(free, "free@example.qa")
    client.logout()
    taken = sign_up(client, lang, "claimant@example.qa")
    assert (taken.status_code, taken["Location"]) == (free.status_code, free["Location"])
    taken_page = shown(taken, "claimant@example.qa")
    assert t(lang, TAKEN_MESSAGE) not in taken_page
    assert t(lang, STAFF_MESSAGE) not in taken_page  # on screen it would tell anyone; the e-mail tells the owner only
    assert taken_page == free_page


def test_the_account_is_created_without_the_number_and_staff_get_a_case(
    client, lang, holder, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, lang, "claimant@example.qa")
    assert response.status_code == 302
    claimant = User.objects.get(email="claimant@example.qa")
    assert claimant.identity_number == ""
    assert not claimant.is_verified
    assert (claimant.segment, claimant.preferred_language) == (Segment.CITIZEN, lang)
    holder.refresh_from_db()
    assert holder.identity_number == NUMBER  # nothing changes for the holder until staff decide

    claim = IdentityClaim.objects.get()
    assert (claim.identity_number, claim.claimant, claim.holder, claim.is_open) == (NUMBER, claimant, holder, True)

    # The person is told, in their language, by e-mail to the address they signed up with.
    told = [mail for mail in mailoutbox if t(lang, STAFF_MESSAGE) in mail.body]
    assert len(told) == 1
    assert told[0].to == ["claimant@example.qa"]
    assert told[0].subject == t(lang, "Your identity number: our staff will contact you")
    assert NUMBER not in told[0].body and "holder@example.qa" not in told[0].body


def test_a_free_number_opens_no_case(client, lang, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, lang, "noor@example.qa")
    assert User.objects.get().identity_number == NUMBER
    assert not IdentityClaim.objects.exists()
    assert not any(t(lang, STAFF_MESSAGE) in mail.body for mail in mailoutbox)


def test_a_number_taken_between_the_check_and_the_save_opens_a_case(holder, monkeypatch):
    """Two sign-ups racing for one number: the unique constraint decides, and the second gets a case, not a 500."""
    claimant = UserFactory(identity_number="")
    real_filter = User.objects.filter

    def blind_first_check(*args, **kwargs):
        monkeypatch.setattr(User.objects, "filter", real_filter)
        return User.objects.none()

    monkeypatch.setattr(User.objects, "filter", blind_first_check)
    claim = decisions.give_identity_number(claimant, NUMBER)
    claimant.refresh_from_db()
    assert claimant.identity_number == ""
    assert (claim.holder, claim.is_open) == (holder, True)


# ---------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------


@pytest.fixture
def claim(holder):
    claimant = UserFactory(identity_number="", email="claimant@example.qa")
    return decisions.give_identity_number(claimant, NUMBER)


def changelist(lang):
    return reverse("admin:accounts_identityclaim_changelist")


def act(client, lang, action, claim):
    return client.post(
        changelist(lang),
        {"action": action, "_selected_action": [claim.pk]},
        HTTP_ACCEPT_LANGUAGE=lang,
        follow=True,
    )


def test_staff_see_both_accounts_and_their_dates(superuser_client, lang, claim):
    response = superuser_client.get(changelist(lang), HTTP_ACCEPT_LANGUAGE=lang)
    html = response.content.decode()
    assert response.status_code == 200
    assert NUMBER in html
    assert "claimant@example.qa" in html and "holder@example.qa" in html
    assert reverse("admin:accounts_user_change", args=[claim.claimant.pk]) in html
    assert reverse("admin:accounts_user_change", args=[claim.holder.pk]) in html
    assert t(lang, "Give the number to the new account (the existing account loses it)") in html
    assert t(lang, "identity number claimed by two accounts") in html
    detail = superuser_client.get(reverse("admin:accounts_identityclaim_change", args=[claim.pk]))
    assert detail.status_code == 200


def test_giving_the_number_moves_it_and_unverifies_the_holder(superuser_client, superuser, lang, claim):
    holder = claim.holder
    holder.mark_verified(User.VerificationMethod.STAFF)
    holder.save()
    response = act(superuser_client, lang, "give_number_to_claimant", claim)
    assert response.status_code == 200
    holder.refresh_from_db()
    claim.claimant.refresh_from_db()
    claim.refresh_from_db()
    assert (holder.identity_number, holder.is_verified) == ("", False)
    assert (claim.claimant.identity_number, claim.claimant.is_verified) == (NUMBER, False)
    assert (claim.resolution, claim.resolved_by) == (IdentityClaim.Resolution.GIVEN_TO_CLAIMANT, superuser)
    assert claim.resolved_at is not None
    changed = AuditEntry.objects.filter(action=AuditEntry.Action.CHANGE, object_type="accounts.user")
    assert {entry.object_id for entry in changed} >= {str(holder.pk), str(claim.claimant.pk)}


def test_leaving_the_number_changes_no_account(superuser_client, lang, claim):
    act(superuser_client, lang, "leave_number_with_holder", claim)
    claim.refresh_from_db()
    claim.holder.refresh_from_db()
    claim.claimant.refresh_from_db()
    assert claim.resolution == IdentityClaim.Resolution.KEPT_BY_HOLDER
    assert (claim.holder.identity_number, claim.claimant.identity_number) == (NUMBER, "")


def test_a_resolved_case_is_not_resolved_again(superuser_client, lang, claim):
    act(superuser_client, lang, "leave_number_with_holder", claim)
    response = act(superuser_client, lang, "give_number_to_claimant", claim)
    claim.refresh_from_db()
    claim.holder.refresh_from_db()
    assert claim.resolution == IdentityClaim.Resolution.KEPT_BY_HOLDER
    assert claim.holder.identity_number == NUMBER
    assert "1" in response.content.decode()
    with pytest.raises(claims.ClaimAlreadyResolved):
        decisions.resolve_claim(None, claim.pk, IdentityClaim.Resolution.GIVEN_TO_CLAIMANT)


def test_a_number_now_held_by_a_third_account_is_not_given(superuser, claim):
    claim.holder.delete()
    VerifiedUserFactory(identity_number=NUMBER)
    with pytest.raises(claims.NumberHeldElsewhere):
        decisions.resolve_claim(superuser, claim.pk, IdentityClaim.Resolution.GIVEN_TO_CLAIMANT)
    claim.refresh_from_db()
    assert claim.is_open


def test_staff_without_the_permission_do_not_see_the_cases(client, staff_user, claim):
    client.force_login(staff_user)
    assert client.get(changelist("en")).status_code == 403


def test_the_profile_answers_the_same_for_a_taken_number_and_opens_a_case(client, lang, holder):
    """A signed-in account cannot probe numbers through the profile either."""

    def save_profile(user, number):
        client.force_login(user)
        with translation.override(lang):
            url = reverse("accounts:profile")
        response = client.post(
            url,
            {"full_name": "Noor Ali", "segment": "citizen", "identity_number": number, "preferred_language": lang},
            follow=True,
        )
        client.logout()
        return response

    free = save_profile(VerifiedUserFactory(segment=Segment.CITIZEN), "29063400088")
    prober = VerifiedUserFactory(segment=Segment.CITIZEN)
    taken = save_profile(prober, NUMBER)
    assert free.status_code == taken.status_code == 200
    with translation.override(lang):
        assert t(lang, TAKEN_MESSAGE) not in taken.content.decode()
        assert t(lang, "Your profile has been saved.") in taken.content.decode()
    claim = IdentityClaim.objects.get(claimant=prober)
    assert (claim.holder, claim.identity_number) == (holder, NUMBER)
    assert User.objects.get(pk=holder.pk).identity_number == NUMBER
