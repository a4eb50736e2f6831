"""Signing in with the national digital identity (OpenID Connect): what its ID token says, and what we do with it.

The identity provider vouches, in the ID token allauth receives from its token endpoint (issuer, audience
and expiry checked), for the person's Qatar ID number, name and nationality. That verifies the person at
once: a Qatari national is a citizen, anyone else a resident, and the Qatar ID number itself must agree
(its digits encode the nationality, accounts.models.validate_identity_number).

What the token says never silently replaces what a profile already holds. A profile with another
number or another segment is left as it is, unverified by this sign-in, and the person is told what
differs (`Contradiction`). A number that another account holds is not given twice and not revealed:
as at sign-up, it becomes a case for staff (accounts/claims.py). What a sign-in writes (apply_claims)
is participation/services/verification.py's.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import Segment, validate_identity_number

QATARI_NATIONALITY = {"QAT", "QA", "634"}


class InvalidIdentityClaims(Exception):
    """The token lacks the Qatar ID number or nationality, or they disagree with each other."""


@dataclass(frozen=True)
class IdentityClaims:
    number: str
    full_name: str
    segment: str
    email: str


@dataclass(frozen=True)
class Contradiction:
    """One thing on which the profile and the national digital identity disagree."""

    field: str  # "identity_number" or "segment"
    profile_value: str
    identity_value: str


def token_data(extra_data):
    """The claims allauth stored for the login: the ID token's (we do not fetch userinfo)."""
    return extra_data.get("userinfo") or extra_data.get("id_token") or extra_data


def claims_from_token(data):
    number = str(data.get(settings.OIDC_QATAR_ID_CLAIM) or "").strip()
    nationality = str(data.get(settings.OIDC_NATIONALITY_CLAIM) or "").strip().upper()
    if not number or not nationality:
        raise InvalidIdentityClaims("the ID token has no Qatar ID number or no nationality")
    segment = Segment.CITIZEN if nationality in QATARI_NATIONALITY else Segment.RESIDENT
    try:
        validate_identity_number(segment, number)
    except ValidationError as exc:
        raise InvalidIdentityClaims(f"the Qatar ID number does not fit the nationality: {exc.messages}") from exc
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        name = " ".join(str(part) for part in (data.get("given_name"), data.get("family_name")) if part)
    return IdentityClaims(number=number, full_name=name[:150], segment=segment.value, email=str(data.get("email") or ""))


def contradictions(user, claims):
    found = []
    if user.identity_number and user.identity_number != claims.number:
        found.append(Contradiction("identity_number", user.identity_number, claims.number))
    if user.segment and user.segment != claims.segment:
        found.append(Contradiction("segment", user.segment, claims.segment))
    return found


@dataclass(frozen=True)
class Outcome:
    verified: bool = False
    case_opened: bool = False
    contradictions: tuple = ()
