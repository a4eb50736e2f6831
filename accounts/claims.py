"""Identity numbers claimed by two accounts: opening a case at sign-up, and staff resolving it."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from participation import audit
from participation.models import AuditEntry

from .models import VERIFICATION_FIELDS, IdentityClaim, User

logger = logging.getLogger(__name__)


class ClaimAlreadyResolved(Exception):
    """Someone else resolved the case first."""


class NumberHeldElsewhere(Exception):
    """The number is now held by a third account: it cannot be given to the claimant."""


def give_identity_number(user, number):
    """Save `number` on a freshly signed-up `user`; if another account holds it, open a case instead.

    Returns the IdentityClaim, or None when the number was free. The unique constraint decides (two
    sign-ups racing for one number: the second gets the case), inside a savepoint so that the
    sign-up itself goes on. The person sees the same sign-up pages either way; the case is told to
    them by e-mail, which only the owner of the address reads (see `_tell_claimant`).
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
    transaction.on_commit(lambda: _tell_claimant(claim.pk))
    return claim


def _tell_claimant(claim_pk):
    """E-mail the claimant, in their language, that staff will contact them.

    Best effort: the case is in the admin whatever happens to this e-mail, and staff contact the
    person from there, so a mail server that is down must not turn the sign-up into an error.
    """
    claim = IdentityClaim.objects.select_related("claimant").filter(pk=claim_pk).first()
    if claim is None:
        return
    user = claim.claimant
    with translation.override(user.preferred_language or "ar"):
        context = {"user": user}
        subject = render_to_string("accounts/email/identity_claim_subject.txt", context).strip()
        body = render_to_string("accounts/email/identity_claim.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # any transport error: the case stays open in the admin
        logger.exception("could not e-mail the claimant of identity claim %s", claim_pk)


def resolve_claim(claim_pk, resolution, staff, request=None):
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
                for u in User.objects.select_for_update().filter(pk__in=[claim.claimant_id, claim.holder_id]).order_by("pk")
            }
            holder, claimant = accounts.get(claim.holder_id), accounts[claim.claimant_id]
            if holder is not None and holder.identity_number == claim.identity_number:
                holder.identity_number = ""
                holder.reset_verification()
                holder.save(update_fields=["identity_number", *VERIFICATION_FIELDS])
                audit.record(AuditEntry.Action.CHANGE, actor=staff, obj=holder, request=request,
                             details={"identity_claim": claim.pk, "identity_number": "removed"})
            if User.objects.filter(identity_number=claim.identity_number).exclude(pk=claimant.pk).exists():
                raise NumberHeldElsewhere
            claimant.identity_number = claim.identity_number
            claimant.reset_verification()
            claimant.save(update_fields=["identity_number", *VERIFICATION_FIELDS])
            audit.record(AuditEntry.Action.CHANGE, actor=staff, obj=claimant, request=request,
                         details={"identity_claim": claim.pk, "identity_number": "given"})
        elif resolution != IdentityClaim.Resolution.KEPT_BY_HOLDER:
            raise ValueError(f"not a resolution: {resolution!r}")
        claim.resolution = resolution
        claim.resolved_at = timezone.now()
        claim.resolved_by = staff
        claim.save(update_fields=["resolution", "resolved_at", "resolved_by"])
    return claim
