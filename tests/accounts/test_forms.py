"""Sign-up and profile forms: segment × persona, identity numbers, verification reset."""

import pytest

from accounts.forms import ProfileForm, SignupForm
from accounts.models import PERSONAS_BY_SEGMENT, IdentityClaim, Persona, Segment, User
from tests.factories import UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

FORBIDDEN_PAIRS = [(s, p) for s in Segment for p in Persona if p not in PERSONAS_BY_SEGMENT[s]]
ALLOWED_PAIRS = [(s, p) for s in Segment for p in PERSONAS_BY_SEGMENT[s]]
VALID_NUMBER = {Segment.CITIZEN: "29063400077", Segment.RESIDENT: "29035600077", Segment.VISITOR: "PX123456"}


def signup_form(**overrides):
    data = {
        "full_name": "Noor Ali",
        "segment": Segment.CITIZEN.value,
        "personas": [],
        "identity_number": VALID_NUMBER[Segment.CITIZEN],
    }
    data.update(overrides)
    return SignupForm(data=data)


def profile_data(user, **overrides):
    data = {
        "full_name": user.full_name,
        "segment": user.segment,
        "personas": [p.value for p in user.personas],
        "identity_number": user.identity_number,
        "preferred_language": user.preferred_language,
        "notify_new_items": "on" if user.notify_new_items else "",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Sign-up: segment × persona
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("segment", "persona"), FORBIDDEN_PAIRS, ids=lambda v: v.value)
def test_persona_outside_the_segment_is_refused_on_personas(segment, persona):
    form = signup_form(segment=segment.value, personas=[persona.value], identity_number=VALID_NUMBER[segment])
    assert not form.is_valid()
    assert form.has_error("personas", code="persona_outside_segment")
    assert set(form.errors) == {"personas"}


@pytest.mark.parametrize(("segment", "persona"), FORBIDDEN_PAIRS, ids=lambda v: v.value)
def test_persona_outside_the_segment_is_refused_among_allowed_ones(segment, persona):
    allowed = [p.value for p in PERSONAS_BY_SEGMENT[segment]]
    form = signup_form(segment=segment.value, personas=[*allowed, persona.value], identity_number=VALID_NUMBER[segment])
    assert not form.is_valid()
    assert form.has_error("personas", code="persona_outside_segment")


@pytest.mark.parametrize(("segment", "persona"), ALLOWED_PAIRS, ids=lambda v: v.value)
def test_persona_of_the_segment_is_accepted(segment, persona):
    form = signup_form(segment=segment.value, personas=[persona.value], identity_number=VALID_NUMBER[segment])
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("segment", list(Segment), ids=lambda v: v.value)
def test_no_persona_is_fine(segment):
    form = signup_form(segment=segment.value, personas=[], identity_number=VALID_NUMBER[segment])
    assert form.is_valid(), form.errors


def test_persona_error_names_the_allowed_choices():
    from django.utils import translation

    with translation.override("en"):
        form = signup_form(segment="resident", personas=["student"], identity_number=VALID_NUMBER[Segment.RESIDENT])
        assert not form.is_valid()
        message = form.errors["personas"][0]
    assert "Student" in message
    assert "Parent / Employee" in message


@pytest.mark.parametrize("segment", ["", "martian"])
def test_missing_or_unknown_segment_is_refused(segment):
    form = signup_form(segment=segment)
    assert not form.is_valid()
    assert "segment" in form.errors


def test_unknown_persona_is_refused():
    form = signup_form(personas=["astronaut"])
    assert not form.is_valid()
    assert form.has_error("personas", code="invalid_choice")


# ---------------------------------------------------------------------------
# Sign-up: identity numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("segment", [Segment.CITIZEN, Segment.RESIDENT], ids=lambda v: v.value)
@pytest.mark.parametrize("number", ["2846340000", "18463400001", "2846340000A", "ABCDEFGHIJK", "2-84634-000"])
def test_badly_formed_qatar_id_is_refused(segment, number):
    form = signup_form(segment=segment.value, identity_number=number)
    assert not form.is_valid()
    assert form.has_error("identity_number", code="qatar_id_format")


def test_qatar_id_longer_than_11_characters_is_refused():
    form = signup_form(identity_number="284634000011")
    assert not form.is_valid()
    assert form.has_error("identity_number")


def test_identity_number_is_required():
    form = signup_form(identity_number="")
    assert not form.is_valid()
    assert form.has_error("identity_number", code="required")


def test_citizen_with_a_non_qatari_id_is_refused():
    form = signup_form(segment="citizen", identity_number="29035600077")
    assert not form.is_valid()
    assert form.has_error("identity_number", code="qatar_id_not_citizen")


def test_resident_with_a_qatari_id_is_refused():
    form = signup_form(segment="resident", identity_number="29063400077")
    assert not form.is_valid()
    assert form.has_error("identity_number", code="qatar_id_not_resident")


@pytest.mark.parametrize("number", ["PX123", "PX12345678", "PX.12345", "PX-12345", "P@123456"])
def test_visitor_with_a_bad_passport_is_refused(number):
    form = signup_form(segment="visitor", identity_number=number)
    assert not form.is_valid()
    assert form.has_error("identity_number", code="passport_format")


def test_visitor_with_a_qatar_id_shaped_number_is_refused():
    # 11 digits is not a passport by the rule (at most 9 characters).
    form = signup_form(segment="visitor", identity_number="29063400077")
    assert not form.is_valid()
    assert form.has_error("identity_number", code="passport_format")


@pytest.mark.parametrize("segment", list(Segment), ids=lambda v: v.value)
def test_sign_up_does_not_say_that_an_identity_number_is_registered(segment):
    """The form is valid as for a free number; signup() opens a case instead (tests/accounts/test_identity_claims.py)."""
    UserFactory(segment=segment, identity_number=VALID_NUMBER[segment])
    form = signup_form(segment=segment.value, identity_number=VALID_NUMBER[segment])
    assert form.is_valid(), form.errors


def test_the_profile_does_not_say_a_number_is_taken_and_opens_a_case_instead():
    """As at sign-up: the form answers as for a free number, so a signed-in account cannot probe numbers."""
    holder = UserFactory(segment=Segment.VISITOR, identity_number="PX123456")
    user = UserFactory(segment=Segment.VISITOR)
    form = ProfileForm(data=profile_data(user, identity_number=" px123456 "), instance=user)
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.identity_number == ""
    claim = IdentityClaim.objects.get(claimant=user)
    assert (claim.holder, claim.identity_number) == (holder, "PX123456")
    assert User.objects.get(pk=holder.pk).identity_number == "PX123456"


@pytest.mark.parametrize(
    ("segment", "typed", "stored"),
    [
        ("visitor", "px123456", "PX123456"),
        ("visitor", "  Px123456\t", "PX123456"),
        ("visitor", "PX 123 456", "PX123456"),
        ("citizen", " 29063400077 ", "29063400077"),
        ("citizen", "290 634 00077", "29063400077"),
        ("citizen", "2 90 634 00077", "29063400077"),
    ],
)
def test_identity_number_is_normalised(segment, typed, stored):
    """People type IDs with spaces (as printed on the card) and passports in lower case."""
    form = signup_form(segment=segment, identity_number=typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["identity_number"] == stored


@pytest.mark.parametrize("typed", ["٢٩٠٦٣٤٠٠٠٧٧", "2٩٠634٠٠٠٧٧", "۲۹۰۶۳۴۰۰۰۷۷"], ids=["arabic-indic", "mixed", "persian"])
def test_arabic_indic_digits_become_the_same_ascii_number(typed):
    """An Arabic keyboard types ٢٩٠٦٣٤...; it is the same Qatar ID as 29063400077, not another one."""
    form = signup_form(segment="citizen", identity_number=typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["identity_number"] == "29063400077"


def test_signup_saves_the_identity_fields_on_the_user(rf):
    from django.utils import translation

    user = UserFactory(segment="", identity_number="", email_confirmed=False)
    form = signup_form(segment="citizen", personas=["parent", "employee"], identity_number="29063400077")
    assert form.is_valid(), form.errors
    with translation.override("en"):
        form.signup(rf.get("/"), user)
    user.refresh_from_db()
    assert user.full_name == "Noor Ali"
    assert user.segment == Segment.CITIZEN
    assert user.personas == [Persona.PARENT, Persona.EMPLOYEE]
    assert user.identity_number == "29063400077"
    assert user.preferred_language == "en"
    assert not user.is_verified


# ---------------------------------------------------------------------------
# Profile form
# ---------------------------------------------------------------------------


def test_profile_form_shows_the_current_personas():
    user = UserFactory(segment=Segment.CITIZEN, personas=[Persona.PARENT])
    assert ProfileForm(instance=user).fields["personas"].initial == ["parent"]


def test_profile_keeps_own_identity_number_without_a_duplicate_error():
    user = VerifiedUserFactory()
    form = ProfileForm(data=profile_data(user), instance=user)
    assert form.is_valid(), form.errors


def test_profile_refuses_a_persona_outside_the_segment():
    user = UserFactory(segment=Segment.RESIDENT)
    form = ProfileForm(data=profile_data(user, personas=["tourist"]), instance=user)
    assert not form.is_valid()
    assert form.has_error("personas", code="persona_outside_segment")


def test_changing_the_segment_resets_verification():
    user = VerifiedUserFactory(segment=Segment.CITIZEN)
    form = ProfileForm(
        data=profile_data(user, segment="resident", identity_number="29035600077"), instance=user
    )
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.segment == Segment.RESIDENT
    assert not user.is_verified
    assert user.verified_at is None
    assert user.verification_method == ""


def test_changing_the_identity_number_resets_verification():
    user = VerifiedUserFactory(segment=Segment.CITIZEN)
    form = ProfileForm(data=profile_data(user, identity_number="29063400099"), instance=user)
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.identity_number == "29063400099"
    assert not user.is_verified


@pytest.mark.parametrize(
    "changes",
    [
        {"full_name": "A New Name"},
        {"personas": ["parent"]},
        {"preferred_language": "en"},
        {"notify_new_items": "on"},
    ],
    ids=["name", "personas", "language", "notifications"],
)
def test_changing_other_details_keeps_verification(changes):
    user = VerifiedUserFactory(segment=Segment.CITIZEN)
    verified_at = user.verified_at
    form = ProfileForm(data=profile_data(user, **changes), instance=user)
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.is_verified
    assert user.verified_at == verified_at
    for field, value in changes.items():
        if field == "personas":
            assert [p.value for p in user.personas] == value
        elif field == "notify_new_items":
            assert user.notify_new_items is True
        else:
            assert getattr(user, field) == value


def test_retyping_the_same_passport_in_lower_case_keeps_verification():
    """The number is normalised to the one already stored: nothing changed, nothing to check again."""
    user = VerifiedUserFactory(segment=Segment.VISITOR, identity_number="PX555555")
    form = ProfileForm(data=profile_data(user, identity_number="px555555"), instance=user)
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.identity_number == "PX555555"
    assert user.is_verified


def test_profile_save_writes_personas():
    user = UserFactory(segment=Segment.VISITOR, personas=[Persona.STUDENT])
    form = ProfileForm(data=profile_data(user, personas=["tourist", "business_owner"]), instance=user)
    assert form.is_valid(), form.errors
    form.save()
    assert User.objects.get(pk=user.pk).personas == [Persona.TOURIST, Persona.BUSINESS_OWNER]
