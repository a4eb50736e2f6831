"""The user admin: identity verification actions and the reset on a changed identity."""

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage

from accounts.models import Segment, User
from tests.factories import StaffUserFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_admin():
    return admin.site._registry[User]


@pytest.fixture
def admin_request(rf, superuser):
    request = rf.post("/admin/accounts/user/")
    request.user = superuser
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def messages_of(request):
    return [str(m) for m in request._messages]


@pytest.mark.parametrize("url", ["/admin/", "/admin/accounts/user/"])
def test_admin_pages_render_for_a_superuser(superuser_client, url, lang):
    response = superuser_client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert f'lang="{lang}"' in response.content.decode()


def test_verify_action_verifies_people_with_an_identity_number(user_admin, admin_request):
    citizen = UserFactory(segment=Segment.CITIZEN)
    visitor = UserFactory(segment=Segment.VISITOR)
    staff = StaffUserFactory()
    already = VerifiedUserFactory()
    verified_at = already.verified_at
    user_admin.verify_identity(
        admin_request, User.objects.filter(pk__in=[citizen.pk, visitor.pk, staff.pk, already.pk])
    )
    for person in (citizen, visitor):
        person.refresh_from_db()
        assert person.is_verified
        assert person.verification_method == User.VerificationMethod.STAFF
        assert person.verified_at is not None
    staff.refresh_from_db()
    assert not staff.is_verified
    already.refresh_from_db()
    assert already.verified_at == verified_at
    messages = messages_of(admin_request)
    assert len(messages) == 2  # how many were verified, and a warning about the one without a number


def test_reset_action_resets_verification(user_admin, admin_request):
    people = [VerifiedUserFactory(), VerifiedUserFactory()]
    user_admin.reset_identity_verification(admin_request, User.objects.filter(pk__in=[p.pk for p in people]))
    assert not User.objects.filter(verification=User.Verification.VERIFIED).exists()
    assert not User.objects.filter(verified_at__isnull=False).exists()


def test_changing_identity_in_admin_resets_verification(superuser_client):
    person = VerifiedUserFactory(segment=Segment.CITIZEN)
    response = superuser_client.get(f"/admin/accounts/user/{person.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "identity_number": "29063400099",
            "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = superuser_client.post(f"/admin/accounts/user/{person.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    person.refresh_from_db()
    assert person.identity_number == "29063400099"
    assert not person.is_verified


@pytest.mark.parametrize(
    "address", ["verificationdecision/?decided_at__year=99999999999", "identityclaim/?created_at__year=99999999999"]
)
def test_lists_with_a_date_hierarchy_answer_an_impossible_date_with_a_message(superuser_client, address):
    """Decisions and identity cases have a date hierarchy: a year past the calendar is the guard's redirect, not a 500."""
    response = superuser_client.get(f"/admin/accounts/{address}")
    assert response.status_code == 302
    assert "?" not in response["Location"]
