"""Identity numbers claimed by two accounts: the refusals and the claimant's e-mail.

Opening a case at sign-up (give_identity_number) and staff resolving it (resolve_claim) are written by
participation/services/verification.py.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from .models import IdentityClaim

logger = logging.getLogger(__name__)


class ClaimAlreadyResolved(Exception):
    """Someone else resolved the case first."""


class NumberHeldElsewhere(Exception):
    """The number is now held by a third account: it cannot be given to the claimant."""


def tell_claimant(claim_pk):
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
