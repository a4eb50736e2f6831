"""allauth's hooks for the national digital identity (accounts/national_identity.py has the rules)."""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from participation.services.verification import apply_claims

from .models import Segment
from .national_identity import InvalidIdentityClaims, claims_from_token, token_data

logger = logging.getLogger(__name__)


def _last_digits(number):
    return f"…{number[-4:]}" if number else ""


def tell_outcome(request, outcome):
    """One clear message for what the sign-in did to the person's identity."""
    if outcome.contradictions:
        lines = []
        for found in outcome.contradictions:
            if found.field == "identity_number":
                lines.append(
                    _("Qatar ID number: your profile has the number ending %(profile)s, the national digital identity the number ending %(identity)s.")
                    % {"profile": _last_digits(found.profile_value), "identity": _last_digits(found.identity_value)}
                )
            else:
                lines.append(
                    _("Who you are: your profile says “%(profile)s”, the national digital identity says “%(identity)s”.")
                    % {"profile": Segment(found.profile_value).label, "identity": Segment(found.identity_value).label}
                )
        messages.warning(
            request,
            " ".join(
                [
                    _("Your profile does not match your national digital identity, so we changed nothing and your identity is not verified."),
                    *lines,
                    _("If your profile is wrong, correct it and sign in with the national digital identity again."),
                ]
            ),
        )
    elif outcome.case_opened:
        messages.info(
            request,
            _("We could not verify your identity automatically. Ministry staff will look into it and contact you by e-mail."),
        )
    elif outcome.verified:
        messages.success(request, _("Your identity is verified with the national digital identity."))


class NationalIdentityAdapter(DefaultSocialAccountAdapter):
    """Reads the identity from the ID token, verifies the person, and never overwrites a profile silently."""

    def _claims(self, request, sociallogin):
        try:
            return claims_from_token(token_data(sociallogin.account.extra_data))
        except InvalidIdentityClaims:
            logger.warning("national digital identity: unusable ID token claims", exc_info=True)
            messages.error(
                request,
                _("The national digital identity did not give us a valid Qatar ID number, so you have not been signed in. Sign in with your e-mail address, or try again later."),
            )
            raise ImmediateHttpResponse(redirect("account_login")) from None

    def pre_social_login(self, request, sociallogin):
        """An account that is already known (linked, found by e-mail, or signed in and connecting) gets the claims now."""
        claims = self._claims(request, sociallogin)
        target = None
        if sociallogin.is_existing:
            target = sociallogin.user
        elif sociallogin.state.get("process") == AuthProcess.CONNECT and request.user.is_authenticated:
            target = request.user
        if target is not None:
            tell_outcome(request, apply_claims(target.pk, claims, request=request))
            target.refresh_from_db()

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        claims = self._claims(request, sociallogin)
        user.full_name = claims.full_name
        user.preferred_language = (get_language() or "ar")[:2]
        return user

    def save_user(self, request, sociallogin, form=None):
        """A new account from the national digital identity: saved, then filled and verified from the token."""
        user = super().save_user(request, sociallogin, form=form)
        tell_outcome(request, apply_claims(user.pk, self._claims(request, sociallogin), request=request))
        user.refresh_from_db()
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        logger.warning("national digital identity sign-in failed: %s", error, exc_info=exception)
