"""`manage.py seed_demo`: idempotent demo accounts that can log in; refused with debug off."""

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.models import Segment, User
from participation.management.commands.seed_demo import DEMO_USERS, DEMO_WAITING

pytestmark = pytest.mark.django_db

DEMO_EMAILS = sorted(row[0] for row in DEMO_USERS + DEMO_WAITING)


def snapshot():
    return sorted(
        User.objects.values_list(
            "pk", "email", "segment", "identity_number", "verification", "verified_at", "is_staff", "is_superuser", "password"
        )
    )


def test_seed_demo_twice_gives_the_same_users(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    first = snapshot()
    call_command("seed_demo", verbosity=0)
    assert snapshot() == first
    assert sorted(User.objects.values_list("email", flat=True)) == DEMO_EMAILS
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == len(DEMO_EMAILS)


def test_seed_demo_repairs_a_changed_demo_account(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    citizen = User.objects.get(email="citizen@demo.hukoomi.qa")
    citizen.set_password("something-else")
    citizen.full_name = "Changed"
    citizen.save()
    call_command("seed_demo", verbosity=0)
    citizen.refresh_from_db()
    assert citizen.full_name == "Fatima Al-Thani"
    assert citizen.check_password(settings.DEMO_PASSWORD)


def test_demo_accounts_are_valid_people(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    for user in User.objects.all():
        user.full_clean()
    people = User.objects.exclude(segment="").exclude(email__in=[row[0] for row in DEMO_WAITING])
    assert sorted(people.values_list("segment", flat=True)) == sorted(
        [Segment.CITIZEN, Segment.RESIDENT, Segment.VISITOR]
    )
    assert all(person.is_verified for person in people)
    admin = User.objects.get(email="admin@demo.hukoomi.qa")
    assert admin.is_superuser and admin.is_staff
    staff = User.objects.get(email="staff@demo.hukoomi.qa")
    assert staff.is_staff and not staff.is_superuser
    # The roles their job needs: drafts, scheduling and publishing, moderation (issue 12).
    assert set(staff.groups.values_list("name", flat=True)) == {"Ministry staff", "Ministry admins", "Moderators"}
    assert all(staff.has_perm(f"participation.{p}") for p in ("schedule_item", "moderate_comment", "add_poll"))


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_demo_users_can_log_in_with_the_demo_password(client, settings, lang, email):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    response = client.post(f"/{lang}/accounts/login/", {"login": email, "password": settings.DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/"
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_demo_password_comes_from_settings(client, settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "Another-Demo-Password-1"
    call_command("seed_demo", verbosity=0)
    assert User.objects.get(email="visitor@demo.hukoomi.qa").check_password("Another-Demo-Password-1")


def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()


def test_seed_demo_runs_with_debug_off_and_force(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo", force=True)
    assert sorted(User.objects.values_list("email", flat=True)) == DEMO_EMAILS
    out = capsys.readouterr().out
    assert settings.DEMO_PASSWORD in out
    assert "citizen@demo.hukoomi.qa" in out
