"""Manual verification, the second path: the Verifiers' queue, decisions on the trail, e-mails, and where people stand."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from accounts import verification
from accounts.models import IdentityClaim, Segment, User, VerificationDecision
from participation.models import AuditEntry
from participation.services import verification as decisions
from tests.builders.items import make_referendum
from tests.builders.users import VERIFIERS, make_staff
from tests.factories import EntityFactory, StaffUserFactory, UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db
LANGS = ("ar", "en")
QUEUE = "/admin/accounts/pendingverification/"


@pytest.fixture
def verifier():
    return make_staff(VERIFIERS, email="verifier@gov.example.qa", full_name="Verifier One")


@pytest.fixture
def pending():
    return UserFactory(full_name="Noura Al-Thani", email="noura.pending@example.qa", preferred_language="ar")


def change_url(person):
    return reverse("admin:accounts_pendingverification_change", args=[person.pk])


def test_the_verifiers_group_has_exactly_the_permissions_it_needs():
    group = Group.objects.get(name="Verifiers")
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("accounts", "view_pendingverification"),
        ("accounts", "change_pendingverification"),
        ("accounts", "view_verificationdecision"),
    }


def test_the_queue_lists_people_waiting_oldest_first_and_nobody_else(client, verifier):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        older = UserFactory(full_name="Older Waiting")
    newer = UserFactory(full_name="Newer Waiting")
    VerifiedUserFactory(full_name="Already Verified")
    UserFactory(full_name="No Number Given", identity_number="", segment="")
    client.force_login(verifier)
    response = client.get(QUEUE)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(older.full_name) < body.index(newer.full_name)
    assert "Already Verified" not in body and "No Number Given" not in body
    # The group opens the queue and nothing else of the people's records.
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_identityclaim_changelist")).status_code == 403


def test_staff_outside_the_group_cannot_open_the_queue(client):
    client.force_login(StaffUserFactory())
    assert client.get(QUEUE).status_code == 403


def test_approving_verifies_records_and_emails_in_the_persons_language(
    client, django_capture_on_commit_callbacks, verifier, pending
):
    client.force_login(verifier)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(pending), {"decision": "approve", "reason": ""})
    assert response.status_code == 302 and response["Location"] == QUEUE
    pending.refresh_from_db()
    assert pending.is_verified and pending.verification_method == User.VerificationMethod.STAFF
    decision = VerificationDecision.objects.get(person=pending)
    assert (decision.outcome, decision.decided_by, decision.notified_at is not None) == ("approved", verifier, True)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VERIFY, object_id=str(pending.pk))
    assert entry.actor == verifier and entry.details["decision"] == decision.pk
    (message,) = mail.outbox
    assert message.to == [pending.email]
    assert message.subject == "تم التحقق من هويتك"
    assert message.body.startswith("مرحبًا Noura Al-Thani،")
    assert "حكومي - المشاركة الإلكترونية" in message.body
    assert "127.0.0.1" not in message.body.split("http")[0] and "testserver" not in message.body


def test_rejecting_needs_a_reason_and_tells_the_person_what_to_correct(
    client, django_capture_on_commit_callbacks, verifier, pending
):
    pending.preferred_language = "en"
    pending.save()
    client.force_login(verifier)
    response = client.post(change_url(pending), {"decision": "reject", "reason": "  "})
    assert response.status_code == 200 and "اذكر السبب ليعرف الشخص ما ينبغي تصحيحه." in response.content.decode()
    pending.refresh_from_db()
    assert pending.awaits_verification and not VerificationDecision.objects.exists() and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            change_url(pending),
            {"decision": "reject", "reason": "The number belongs to someone born in 1987; check the digits."},
        )
    pending.refresh_from_db()
    assert pending.verification == User.Verification.REJECTED
    assert pending.verification_note == "The number belongs to someone born in 1987; check the digits."
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CHANGE, object_id=str(pending.pk))
    assert entry.details["verification"] == {"from": "unverified", "to": "rejected"}
    (message,) = mail.outbox
    assert message.subject == "Your identity could not be verified yet"
    assert message.body.startswith("Hello Noura Al-Thani,")
    assert "check the digits" in message.body and "/en/profile/" in message.body
    assert message.body.rstrip().endswith("Hukoomi e-Participation")


def test_the_decision_the_record_and_the_trail_commit_together(monkeypatch, verifier, pending):
    def broken_record(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(decisions.trail, "record", broken_record)
    with pytest.raises(RuntimeError):
        decisions.approve(verifier, pending.pk)
    pending.refresh_from_db()
    assert pending.awaits_verification
    assert not VerificationDecision.objects.exists()


def test_a_second_decision_on_the_same_person_is_refused(verifier, pending):
    decisions.approve(verifier, pending.pk)
    with pytest.raises(verification.NotAwaitingVerification):
        decisions.reject(verifier, pending.pk, "too late")
    assert VerificationDecision.objects.count() == 1


def test_the_database_refuses_a_rejection_without_a_reason(pending):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=pending.pk).update(verification="rejected", verification_note="")


def test_an_email_that_could_not_go_is_sent_by_the_sweep(
    monkeypatch, django_capture_on_commit_callbacks, verifier, pending
):
    def mail_server_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(decisions, "send_mail", mail_server_down)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decisions.approve(verifier, pending.pk)
    decision.refresh_from_db()
    assert decision.notified_at is None
    monkeypatch.undo()
    assert decisions.send_pending_decision_emails() == 1
    decision.refresh_from_db()
    assert decision.notified_at is not None and len(mail.outbox) == 1
    assert decisions.send_pending_decision_emails() == 0 and len(mail.outbox) == 1


def test_approve_selected_in_the_queue(client, django_capture_on_commit_callbacks, verifier):
    people = UserFactory.create_batch(3)
    client.force_login(verifier)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(QUEUE, {"action": "approve_selected", "_selected_action": [p.pk for p in people]})
    assert User.objects.filter(pk__in=[p.pk for p in people], verification="verified").count() == 3
    assert len(mail.outbox) == 3


# ---------------------------------------------------------------------------
# Where the person stands
# ---------------------------------------------------------------------------

STATUS_TEXT = {
    "pending": {"ar": "بانتظار التحقق منذ", "en": "Waiting since"},
    "who": {"ar": "موظفو التحقق من الهوية في الوزارة", "en": "The ministry's identity verifiers"},
    "expected": {"ar": "عادةً قبل", "en": "Usually by"},
    "meanwhile": {"ar": "يمكنك الاطلاع على كل المحتوى", "en": "You can read everything"},
}


def formatted(lang, moment):
    from django.utils.formats import date_format

    with translation.override(lang):
        return date_format(timezone.localtime(moment), "DATE_FORMAT")


@pytest.mark.parametrize("lang", LANGS)
def test_the_profile_says_since_when_who_decides_when_and_what_to_do(client, lang, settings):
    settings.VERIFICATION_EXPECTED_DAYS = 2
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        person = UserFactory()
    client.force_login(person)
    body = client.get(f"/{lang}/profile/").content.decode()
    for key in STATUS_TEXT:
        assert STATUS_TEXT[key][lang] in body
    since = person.verification_requested_at or person.date_joined
    assert formatted(lang, since) in body
    assert formatted(lang, since + timedelta(days=2)) in body
    assert f'href="/{lang}/participate/"' in body


@pytest.mark.parametrize("lang", LANGS)
def test_a_turned_down_person_sees_the_reason_and_the_way_to_correct_it(client, lang, verifier):
    person = UserFactory()
    decisions.reject(verifier, person.pk, "Digits 4 and 5 are swapped")
    client.force_login(person)
    body = client.get(f"/{lang}/profile/").content.decode()
    assert "Digits 4 and 5 are swapped" in body
    assert f'href="/{lang}/profile/#edit-details"' in body


def test_correcting_the_number_after_a_rejection_puts_the_person_back_in_the_queue(client, verifier):
    person = UserFactory(segment=Segment.CITIZEN)
    decisions.reject(verifier, person.pk, "wrong number")
    client.force_login(person)
    response = client.post(
        "/en/profile/",
        {
            "full_name": person.full_name,
            "segment": "citizen",
            "identity_number": "30163499999",
            "preferred_language": "en",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.awaits_verification and person.verification_note == ""
    assert person.verification_requested_at > timezone.now() - timedelta(minutes=1)


def test_a_person_whose_number_is_a_case_is_told_staff_will_contact_them(client):
    holder = UserFactory()
    claimant = UserFactory(identity_number="")
    IdentityClaim.objects.create(identity_number=holder.identity_number, claimant=claimant, holder=holder)
    client.force_login(claimant)
    body = client.get("/en/profile/").content.decode()
    assert "they will contact you by e-mail" in body and holder.email not in body


@pytest.mark.parametrize("lang", LANGS)
def test_the_referendum_barrier_is_no_dead_end(client, lang):
    referendum = make_referendum(entity=EntityFactory())
    person = UserFactory()
    client.force_login(person)
    body = client.get(f"/{lang}/referendums/{referendum.slug}/").content.decode()
    assert 'id="verification-status"' in body
    assert STATUS_TEXT["pending"][lang] in body and STATUS_TEXT["expected"][lang] in body
    assert f'href="/{lang}/participate/"' in body


def test_seed_demo_gives_a_verifier_and_someone_to_verify(client, settings, verifier):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    demo_verifier = User.objects.get(email="verifier@demo.hukoomi.qa")
    waiting = User.objects.get(email="pending@demo.hukoomi.qa")
    assert demo_verifier.is_staff and not demo_verifier.is_superuser
    assert list(demo_verifier.groups.values_list("name", flat=True)) == ["Verifiers"]
    assert waiting.awaits_verification and waiting.verification_requested_at is not None
    assert client.login(email="verifier@demo.hukoomi.qa", password=settings.DEMO_PASSWORD)
    assert waiting.email in client.get(QUEUE).content.decode()
    decisions.approve(demo_verifier, waiting.pk)
    call_command("seed_demo", verbosity=0)
    waiting.refresh_from_db()
    assert waiting.is_verified
