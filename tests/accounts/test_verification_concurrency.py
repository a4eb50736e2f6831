"""Two verifiers deciding on the same person at the same moment, on PostgreSQL: one decision, one e-mail.

The row lock in participation/services/verification.py (_decide) is what makes the second verifier find the person no
longer waiting. SQLite ignores row locks, so this runs on PostgreSQL only.
"""

import pytest

from accounts import verification
from accounts.models import VerificationDecision
from participation.models import AuditEntry
from participation.services import verification as decisions
from tests.builders.users import VERIFIERS, make_staff
from tests.factories import UserFactory
from tests.participation.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_approval_and_a_rejection_at_once_leave_exactly_one_decision(postgres_only):
    person = UserFactory()
    first, second = make_staff(VERIFIERS), make_staff(VERIFIERS)
    outcomes = race(
        lambda: decisions.approve(first, person.pk),
        lambda: decisions.reject(second, person.pk, "the digits do not match"),
    )
    refused = [o for o in outcomes if isinstance(o, verification.NotAwaitingVerification)]
    decided = [o for o in outcomes if isinstance(o, VerificationDecision)]
    assert (len(decided), len(refused)) == (1, 1), outcomes
    person.refresh_from_db()
    assert person.verification == {"approved": "verified", "rejected": "rejected"}[decided[0].outcome]
    assert VerificationDecision.objects.count() == 1
    assert AuditEntry.objects.filter(object_id=str(person.pk), object_type="accounts.user").count() == 1
