"""Identity verification's writes: staff decisions, identity-number cases, the national sign-in, resets.

Each changes a person's record together with its audit entry, naming who acted, in one transaction;
a person's row is locked where two people may decide at once. What they share with the pages (the
refusals, the e-mails' wording, where a person stands) stays in accounts/verification.py,
accounts/claims.py and accounts/national_identity.py, which write nothing.

Staff writes take the actor first (the verifier, the member of staff). A decision asks
permissions.py (accounts.decide_verification: the verifiers' role, never on one's own identity) under
the person's lock; the accounts admin asks the same before offering the rows.

Why here and not in accounts: the issue makes the services the one place that writes what matters,
and identity decisions gate who may vote; the accounts pages and admin call these.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.claims import ClaimAlreadyResolved, NumberHeldElsewhere, tell_claimant
from accounts.models import VERIFICATION_FIELDS, IdentityClaim, User, VerificationDecision
from accounts.national_identity import Outcome, contradictions
from accounts.verification import NotAwaitingVerification, ReasonRequired, render_decision_email

from .. import permissions
from ..models import AuditEntry
from . import trail

logger = logging.getLogger(__name__)


# -- staff decisions (the Verifiers' queue) -------------------------------------


def approve(verifier, person_pk, request=None):
    """Verify the person's identity (checked by staff). See `_decide` for what is locked and written."""
    return _decide(person_pk, verifier, VerificationDecision.Outcome.APPROVED, "", request)


def reject(verifier, person_pk, reason, request=None):
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
        permissions.require(verifier, "accounts.decide_verification", person)
        if outcome == VerificationDecision.Outcome.APPROVED:
            person.mark_verified(User.VerificationMethod.STAFF)
            action, details = AuditEntry.Action.VERIFY, {"method": User.VerificationMethod.STAFF.value}
        else:
            person.mark_rejected(reason)
            action = AuditEntry.Action.CHANGE
            details = {
                "verification": {"from": User.Verification.UNVERIFIED.value, "to": person.verification},
                "reason": reason,
            }
        person.save(update_fields=VERIFICATION_FIELDS)
        decision = VerificationDecision.objects.create(
            person=person, outcome=outcome, reason=reason, decided_by=verifier
        )
        trail.record(action, actor=verifier, obj=person, request=request, details={**details, "decision": decision.pk})
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


def send_pending_decision_emails():
    """Send every decision e-mail that has not gone yet (beat and close_due); returns how many were sent."""
    pending = (
        VerificationDecision.objects.filter(notified_at__isnull=True)
        .order_by("decided_at")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in list(pending) if send_decision_email(pk))


def reset_verification(staff, person, reason, request=None, save=True):
    """Put a verified (or turned down) person back to unverified, on the trail naming the staff member.

    Call it inside the change's transaction when `save` is False (the admin's change form saves the
    record itself); otherwise the record and the entry commit together here.
    """
    with transaction.atomic():
        trail.record(
            AuditEntry.Action.CHANGE,
            actor=staff,
            obj=person,
            request=request,
            details={
                "verification": {"from": person.verification, "to": User.Verification.UNVERIFIED},
                "method": person.verification_method,
                "reason": reason,
            },
        )
        person.reset_verification()
        if save:
            person.save(update_fields=VERIFICATION_FIELDS)
    return person


# -- identity numbers claimed by two accounts -----------------------------------


def give_identity_number(user, number):
    """Save `number` on a freshly signed-up `user`; if another account holds it, open a case instead.

    Returns the IdentityClaim, or None when the number was free. The unique constraint decides (two
    sign-ups racing for one number: the second gets the case), inside a savepoint so that the
    sign-up itself goes on. The person sees the same sign-up pages either way; the case is told to
    them by e-mail, which only the owner of the address reads (see accounts.claims.tell_claimant).
    """
    holder = User.objects.filter(identity_number=number).exclude(pk=user.pk).first()
    if holder is None:
        user.identity_number = number
        user.verification_requested_at = timezone.now()
        try:
            with transaction.atomic():
                user.save()
            return None
        except IntegrityError:
            holder = User.objects.filter(identity_number=number).exclude(pk=user.pk).first()
    user.identity_number = ""
    user.save()
    claim, _created = IdentityClaim.objects.get_or_create(
        claimant=user, identity_number=number, resolution=IdentityClaim.Resolution.OPEN, defaults={"holder": holder}
    )
    transaction.on_commit(lambda: tell_claimant(claim.pk))
    return claim


def resolve_claim(staff, claim_pk, resolution, request=None):
    """Close a case: GIVEN_TO_CLAIMANT moves the number (the holder loses it and its verification; the
    claimant gets it, unverified, to be checked like any other), KEPT_BY_HOLDER changes no account.

    Locks the case and both accounts (in primary-key order, so two resolutions cannot deadlock); a
    case resolved meanwhile raises ClaimAlreadyResolved. Each changed account is on the audit trail.
    """
    with transaction.atomic():
        claim = IdentityClaim.objects.select_for_update().get(pk=claim_pk)
        if not claim.is_open:
            raise ClaimAlreadyResolved
        if resolution == IdentityClaim.Resolution.GIVEN_TO_CLAIMANT:
            accounts = {
                u.pk: u
                for u in User.objects.select_for_update()
                .filter(pk__in=[claim.claimant_id, claim.holder_id])
                .order_by("pk")
            }
            holder, claimant = accounts.get(claim.holder_id), accounts[claim.claimant_id]
            if holder is not None and holder.identity_number == claim.identity_number:
                _set_identity_number(holder, "", staff, claim, request, note="removed")
            if User.objects.filter(identity_number=claim.identity_number).exclude(pk=claimant.pk).exists():
                raise NumberHeldElsewhere
            _set_identity_number(claimant, claim.identity_number, staff, claim, request, note="given")
        elif resolution != IdentityClaim.Resolution.KEPT_BY_HOLDER:
            raise ValueError(f"not a resolution: {resolution!r}")
        claim.resolution = resolution
        claim.resolved_at = timezone.now()
        claim.resolved_by = staff
        claim.save(update_fields=["resolution", "resolved_at", "resolved_by"])
    return claim


def _set_identity_number(person, number, staff, claim, request, note):
    """One side of a resolved case: the account's number changes, its verification starts again, on the trail."""
    person.identity_number = number
    person.reset_verification()
    person.save(update_fields=["identity_number", *VERIFICATION_FIELDS])
    trail.record(
        AuditEntry.Action.CHANGE,
        actor=staff,
        obj=person,
        request=request,
        details={"identity_claim": claim.pk, "identity_number": note},
    )


# -- the national digital identity ----------------------------------------------


def apply_claims(user_pk, claims, request=None):
    """Fill what the profile lacks from the token and verify the person, unless the profile disagrees.

    Locks the person's row. Disagreement (another number, another segment): nothing is written and
    the Outcome lists what differs. A number held by another account: the case for staff is opened
    (give_identity_number) and the person stays unverified. Otherwise the person is verified by the
    national digital identity, with the entry on the audit trail, in the same transaction.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_pk)
        found = contradictions(user, claims)
        if found:
            return Outcome(contradictions=tuple(found))
        if not user.full_name and claims.full_name:
            user.full_name = claims.full_name
        if not user.segment:
            user.segment = claims.segment
        if user.identity_number != claims.number and give_identity_number(user, claims.number) is not None:
            return Outcome(case_opened=True)
        user.save(update_fields=["full_name", "segment"])
        if user.is_verified:
            return Outcome(verified=True)
        user.mark_verified(User.VerificationMethod.NATIONAL_SSO)
        user.save(update_fields=VERIFICATION_FIELDS)
        trail.record(
            AuditEntry.Action.VERIFY,
            actor=user,
            obj=user,
            request=request,
            details={"method": User.VerificationMethod.NATIONAL_SSO.value},
        )
    return Outcome(verified=True)
