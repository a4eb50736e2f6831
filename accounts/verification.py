"""Manual identity verification, the second path after the national digital identity.

A verifier (the "Verifiers" group, roles.VERIFIERS, data migration 0004) approves a person's identity number or turns
it down with a reason. The decisions are written by participation/services/verification.py (approve,
reject, send_pending_decision_emails): each changes the person's record, writes a VerificationDecision
and an audit entry, all in one transaction, and the decision row is the e-mail's outbox. This module
holds what they share with the pages: the refusals, the e-mail's wording, and where a person stands.

`status_for(user)` tells the person where they stand, on the profile and wherever a barrier says
that their identity must be verified.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import IdentityClaim, User, VerificationDecision

LANGUAGES = ("ar", "en")


class NotAwaitingVerification(Exception):
    """The person is no longer in the queue: verified, turned down or changed meanwhile."""


class ReasonRequired(ValueError):
    """Turning an identity down needs a reason the person can act on."""


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
    claim = (
        IdentityClaim.objects.filter(claimant=user, resolution=IdentityClaim.Resolution.OPEN)
        .order_by("created_at")
        .first()
    )
    if claim is not None:
        return VerificationStatus("case", since=claim.created_at, expected_by=claim.created_at + expected_wait())
    if user.identity_number:
        since = user.verification_requested_at or user.date_joined
        return VerificationStatus("pending", since=since, expected_by=since + expected_wait())
    return VerificationStatus("missing")
