"""Rules the database holds itself, played as an attacker who writes straight to the tables.

The services refuse these too; the constraints make sure no other writer (a shell, a script, a later
bug) can break them.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import VerificationDecision
from participation.errors import NotPermitted
from participation.models import Item, State
from participation.services import verification
from tests.builders.items import make_consultation
from tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_consultation_cannot_be_published_without_its_outcome():
    consultation = make_consultation()
    Item.objects.filter(pk=consultation.pk).update(state=State.CLOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=consultation.pk).update(state=State.PUBLISHED, outcome_published_at=timezone.now())


def test_a_consultation_outcome_is_published_with_its_date_and_both_languages():
    consultation = make_consultation()
    texts = {
        "outcome_heard_ar": "سمعنا",
        "outcome_heard_en": "We heard",
        "outcome_changed_ar": "غيّرنا",
        "outcome_changed_en": "We changed",
    }
    Item.objects.filter(pk=consultation.pk).update(state=State.CLOSED, **texts)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=consultation.pk).update(state=State.PUBLISHED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=consultation.pk).update(
            state=State.PUBLISHED, outcome_heard_en="", outcome_published_at=timezone.now()
        )
    Item.objects.filter(pk=consultation.pk).update(state=State.PUBLISHED, outcome_published_at=timezone.now())
    assert Item.objects.get(pk=consultation.pk).state == State.PUBLISHED


def test_nobody_decides_on_their_own_identity():
    verifier = StaffUserFactory(identity_number="28463400001")
    with pytest.raises(IntegrityError), transaction.atomic():
        VerificationDecision.objects.create(person=verifier, outcome="approved", decided_by=verifier)
    VerificationDecision.objects.create(person=UserFactory(), outcome="approved", decided_by=verifier)
    assert VerificationDecision.objects.count() == 1


def test_the_decision_service_refuses_a_verifier_deciding_on_themself():
    """The service asks permissions.py before the database has to refuse it."""
    verifier = StaffUserFactory(identity_number="28463400002", verification="unverified")
    verifier.groups.add(Group.objects.get(name="Verifiers"))
    with pytest.raises(NotPermitted):
        verification.approve(verifier, verifier.pk)
    assert not VerificationDecision.objects.filter(person=verifier).exists()
