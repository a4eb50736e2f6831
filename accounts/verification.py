"""Manual identity verification, the second path after the national digital identity.

A verifier (the "Verifiers" group, data migration 0004) approves a person's identity number or turns
it down with a reason. Each decision changes the person's record, writes a VerificationDecision and
an audit entry, all in one transaction. The decision row is also the e-mail's outbox: the person is
e-mailed in their language after the commit, and a decision whose e-mail has not gone (mail server
down) is sent again by `send_pending_decision_emails` (beat, and the close_due command).

`status_for(user)` tells the person where they stand, on the profile and wherever a barrier says
that their identity must be verified.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from participation import audit
from participation.models import AuditEntry

from .models import VERIFICATION_FIELDS, IdentityClaim, User, VerificationDecision

logger = logging.getLogger(__name__)

VERIFIERS_GROUP = "Verifiers"
LANGUAGES = ("ar", "en")


class NotAwaitingVerification(Exception):
    """The person is no longer in the queue: verified, turned down or changed meanwhile."""


class ReasonRequired(ValueError):
    """Turning an identity down needs a reason the person can act on."""


def approve(person_pk, verifier, request=None):
    """Verify the person's identity (checked by staff). See `_decide` for what is locked and written."""
    return _decide(person_pk, verifier, VerificationDecision.Outcome.APPROVED, "", request)


def reject(person_pk, verifier, reason, request=None):
    """Turn the person's identity number down, with a reason shown to them. See `_decide`."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ReasonRequired
    return _decide(person_pk, verifier, VerificationDecision.Outcome.REJECTED, reason, request)


def _decide(person_pk, verifier, outcome, reason, request):
    """Lock the person, check they still wait, change their record, write the decision and the audit entry.

    One transaction: the decision, the record and the trail commit together or not at all. The row
    lock makes two verifiers deciding on the same person at once safe: the second one finds the
    person no longer waiting and gets NotAwaitingVerification. The e-mail goes after the commit.
    """
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person_pk)
        if not person.awaits_verification:
            raise NotAwaitingVerification
        if outcome == VerificationDecision.Outcome.APPROVED:
            person.mark_verified(User.VerificationMethod.STAFF)
            action, details = AuditEntry.Action.VERIFY, {"method": User.VerificationMethod.STAFF.value}
        else:
            person.mark_rejected(reason)
            action = AuditEntry.Action.CHANGE
            details = {"verification": {"from": User.Verification.UNVERIFIED.value, "to": person.verification}, "reason": reason}
        person.save(update_fields=VERIFICATION_FIELDS)
        decision = VerificationDecision.objects.create(person=person, outcome=outcome, reason=reason, decided_by=verifier)
        audit.record(action, actor=verifier, obj=person, request=request, details={**details, "decision": decision.pk})
        transaction.on_commit(lambda: send_decision_email(decision.pk))
    return decision


def send_decision_email(decision_pk):
    """E-mail the person about one decision, in their language; True when sent (or already sent).

    The decision row is locked while sending (skip_locked: a sweep and the commit hook never both
    send it), and marked sent in the same transaction. A transport error leaves it unsent for the
    next sweep; it never reaches the verifier's request.
    """
    with transaction.atomic():
        decision = (
            VerificationDecision.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("person")
            .filter(pk=decision_pk, notified_at__isnull=True)
            .first()
        )
        if decision is None:
            return True
        subject, body = render_decision_email(decision)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [decision.person.email])
        except Exception:  # any transport error: the sweep sends it later
            logger.exception("could not e-mail verification decision %s; the sweep will retry", decision_pk)
            return False
        decision.notified_at = timezone.now()
        decision.save(update_fields=["notified_at"])
    return True


def render_decision_email(decision):
    person = decision.person
    language = person.preferred_language if person.preferred_language in LANGUAGES else "ar"
    with translation.override(language):
        context = {
            "person": person,
            "decision": decision,
            "approved": decision.outcome == VerificationDecision.Outcome.APPROVED,
            "profile_url": urljoin(settings.PORTAL_BASE_URL, reverse("accounts:profile")),
            "open_url": urljoin(settings.PORTAL_BASE_URL, reverse("participation:list")),
        }
        subject = render_to_string("accounts/email/verification_decision_subject.txt", context).strip()
        body = render_to_string("accounts/email/verification_decision.txt", context)
    return " ".join(subject.split()), body


def send_pending_decision_emails():
    """Send every decision e-mail that has not gone yet (beat and close_due); returns how many were sent."""
    pending = VerificationDecision.objects.filter(notified_at__isnull=True).order_by("decided_at").values_list("pk", flat=True)
    return sum(1 for pk in list(pending) if send_decision_email(pk))


@dataclass(frozen=True)
class VerificationStatus:
    """Where a person's identity check stands, for the profile and the "must be verified" barrier."""

    state: str  # verified, pending, case, rejected, missing
    since: datetime | None = None
    expected_by: datetime | None = None
    method: str = ""
    reason: str = ""

    @property
    def is_verified(self):
        return self.state == "verified"


def expected_wait():
    return timedelta(days=settings.VERIFICATION_EXPECTED_DAYS)


def status_for(user):
    if user.verification == User.Verification.VERIFIED:
        return VerificationStatus("verified", since=user.verified_at, method=user.verification_method)
    if user.verification == User.Verification.REJECTED:
        decided = user.verification_decisions.order_by("-decided_at").values_list("decided_at", flat=True).first()
        return VerificationStatus("rejected", since=decided, reason=user.verification_note)
    claim = IdentityClaim.objects.filter(claimant=user, resolution=IdentityClaim.Resolution.OPEN).order_by("created_at").first()
    if claim is not None:
        return VerificationStatus("case", since=claim.created_at, expected_by=claim.created_at + expected_wait())
    if user.identity_number:
        since = user.verification_requested_at or user.date_joined
        return VerificationStatus("pending", since=since, expected_by=since + expected_wait())
    return VerificationStatus("missing")
