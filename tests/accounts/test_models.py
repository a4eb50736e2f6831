"""The User model: database constraints, identity numbers, personas, verification, manager."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from accounts.models import (
    PERSONAS_BY_SEGMENT,
    Persona,
    Segment,
    User,
    personas_allowed,
    validate_identity_number,
)
from tests.factories import UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db

ALLOWED_PAIRS = [(s, p) for s in Segment for p in PERSONAS_BY_SEGMENT[s]]
FORBIDDEN_PAIRS = [(s, p) for s in Segment for p in Persona if p not in PERSONAS_BY_SEGMENT[s]]
VALID_NUMBER = {Segment.CITIZEN: "28463400001", Segment.RESIDENT: "28881800002", Segment.VISITOR: "XK1234567"}


def persona_flags(*personas):
    return {f"is_{p.value}": True for p in personas}


def insert_user(**fields):
    """Write a row straight to the database, without clean(): only the constraints stand in the way."""
    fields.setdefault("email", f"row{User.objects.count()}@example.qa")
    fields.setdefault("full_name", "Row")
    with transaction.atomic():
        return User.objects.create(**fields)


# ---------------------------------------------------------------------------
# Check and unique constraints
# ---------------------------------------------------------------------------


def test_segments_and_personas_match_the_seed():
    assert len(FORBIDDEN_PAIRS) == 7
    assert len(ALLOWED_PAIRS) == 8


@pytest.mark.parametrize(("segment", "persona"), FORBIDDEN_PAIRS, ids=lambda v: v.value)
def test_database_refuses_a_persona_outside_the_segment(segment, persona):
    with pytest.raises(IntegrityError):
        insert_user(segment=segment, **persona_flags(persona))
    assert not User.objects.exists()


@pytest.mark.parametrize(("segment", "persona"), ALLOWED_PAIRS, ids=lambda v: v.value)
def test_database_accepts_every_persona_of_the_segment(segment, persona):
    user = insert_user(segment=segment, **persona_flags(persona))
    assert User.objects.get(pk=user.pk).personas == [persona]


@pytest.mark.parametrize("segment", list(Segment), ids=lambda v: v.value)
def test_database_accepts_all_allowed_personas_together(segment):
    user = insert_user(segment=segment, **persona_flags(*PERSONAS_BY_SEGMENT[segment]))
    assert set(User.objects.get(pk=user.pk).personas) == set(PERSONAS_BY_SEGMENT[segment])


@pytest.mark.parametrize("persona", list(Persona), ids=lambda v: v.value)
def test_database_refuses_personas_without_a_segment(persona):
    with pytest.raises(IntegrityError):
        insert_user(segment="", **persona_flags(persona))
    assert not User.objects.exists()


def test_database_accepts_no_segment_and_no_personas():
    assert insert_user(segment="").personas == []


def test_database_refuses_a_second_account_with_the_same_identity_number():
    insert_user(email="a@example.qa", segment=Segment.CITIZEN, identity_number="28463400001")
    with pytest.raises(IntegrityError):
        insert_user(email="b@example.qa", segment=Segment.CITIZEN, identity_number="28463400001")
    assert User.objects.count() == 1


def test_many_accounts_may_have_no_identity_number():
    insert_user(email="a@example.qa", identity_number="")
    insert_user(email="b@example.qa", identity_number="")
    assert User.objects.filter(identity_number="").count() == 2


def test_database_refuses_a_duplicate_email():
    insert_user(email="same@example.qa")
    with pytest.raises(IntegrityError):
        insert_user(email="same@example.qa")


def test_database_refuses_verified_without_a_date():
    with pytest.raises(IntegrityError):
        insert_user(identity_number="28463400001", segment=Segment.CITIZEN, verification="verified", verified_at=None)


def test_database_refuses_verified_without_an_identity_number():
    with pytest.raises(IntegrityError):
        insert_user(identity_number="", verification="verified", verified_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_database_refuses_unverified_with_a_date():
    with pytest.raises(IntegrityError):
        insert_user(verification="unverified", verified_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_database_refuses_an_unknown_verification_state_with_a_date():
    with pytest.raises(IntegrityError):
        insert_user(
            identity_number="28463400001",
            segment=Segment.CITIZEN,
            verification="pending",
            verified_at=datetime(2026, 1, 1, tzinfo=UTC),
        )


def test_database_accepts_verified_with_date_and_identity():
    user = insert_user(
        identity_number="28463400001",
        segment=Segment.CITIZEN,
        verification="verified",
        verified_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert User.objects.get(pk=user.pk).is_verified


# ---------------------------------------------------------------------------
# validate_identity_number
# ---------------------------------------------------------------------------


def error_code(segment, number):
    try:
        validate_identity_number(segment, number)
    except ValidationError as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    ("segment", "number"),
    [
        (Segment.CITIZEN, "28463400001"),
        (Segment.CITIZEN, "30163499999"),
        (Segment.RESIDENT, "28881800002"),
        (Segment.RESIDENT, "30135600001"),
        (Segment.RESIDENT, "29063500001"),  # 635, one off the Qatari code
        (Segment.VISITOR, "XK1234567"),
        (Segment.VISITOR, "123456"),
        (Segment.VISITOR, "ABCDEF"),
        (Segment.VISITOR, "A1B2C3D4E"),
    ],
)
def test_valid_identity_numbers_pass(segment, number):
    assert error_code(segment, number) is None


@pytest.mark.parametrize("segment", [Segment.CITIZEN, Segment.RESIDENT], ids=lambda v: v.value)
@pytest.mark.parametrize(
    "number",
    [
        "",
        None,
        "2846340000",  # 10 digits
        "284634000011",  # 12 digits
        "18463400001",  # starts with 1
        "48463400001",  # starts with 4
        "08463400001",  # starts with 0
        "2846340000A",  # a letter
        "2846 340000",  # a space
        "+2846340000",
        "XK1234567",  # a passport number
    ],
)
def test_badly_formed_qatar_ids_are_refused(segment, number):
    assert error_code(segment, number) == "qatar_id_format"


@pytest.mark.parametrize("segment", [Segment.CITIZEN, Segment.RESIDENT], ids=lambda v: v.value)
def test_qatar_id_with_non_ascii_digits_is_refused(segment):
    """Arabic-Indic digits are \\d to Python's re: "2٨٤634٠٠٠٠١" must not pass as a Qatar ID.

    Otherwise the same ID typed with two kinds of digits makes two accounts.
    """
    number = "2" + "٨٤" + ("634" if segment == Segment.CITIZEN else "818") + "٠٠٠٠١"
    assert error_code(segment, number) == "qatar_id_format"


@pytest.mark.parametrize("number", ["28881800002", "30135600001", "29063500001", "28463300001"])
def test_citizen_with_a_non_qatari_id_is_refused(number):
    assert error_code(Segment.CITIZEN, number) == "qatar_id_not_citizen"


@pytest.mark.parametrize("number", ["28463400001", "30163499999"])
def test_resident_with_a_qatari_id_is_refused(number):
    assert error_code(Segment.RESIDENT, number) == "qatar_id_not_resident"


@pytest.mark.parametrize(
    "number",
    ["", None, "AB123", "ABCDEFGHIJ", "ab123456", "Xk1234567", "AB 12345", "AB-12345", "AB_12345", "١٢٣٤٥٦٧"],
)
def test_bad_passport_numbers_are_refused(number):
    assert error_code(Segment.VISITOR, number) == "passport_format"


def test_citizen_error_message_names_the_right_segment():
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        validate_identity_number(Segment.CITIZEN, "28881800002")
    with translation.override("en"):
        assert "Choose “Resident”" in str(excinfo.value.message)


# ---------------------------------------------------------------------------
# User.clean
# ---------------------------------------------------------------------------


def build(**fields):
    fields = {"email": "clean@example.qa", "full_name": "Clean", **fields}
    personas = fields.pop("personas", [])
    user = User(**fields)
    user.personas = personas
    return user


@pytest.mark.parametrize(("segment", "persona"), FORBIDDEN_PAIRS, ids=lambda v: v.value)
def test_clean_refuses_a_persona_outside_the_segment(segment, persona):
    user = build(segment=segment, personas=[persona], identity_number=VALID_NUMBER[segment])
    with pytest.raises(ValidationError) as excinfo:
        user.clean()
    errors = excinfo.value.error_dict
    assert set(errors) == {"segment"}
    assert errors["segment"][0].code == "persona_outside_segment"


def test_clean_refuses_personas_without_a_segment():
    user = build(segment="", personas=[Persona.PARENT])
    with pytest.raises(ValidationError) as excinfo:
        user.clean()
    assert excinfo.value.error_dict["segment"][0].code == "persona_no_segment"


def test_clean_refuses_an_identity_number_that_does_not_fit_the_segment():
    user = build(segment=Segment.CITIZEN, identity_number="28881800002")
    with pytest.raises(ValidationError) as excinfo:
        user.clean()
    assert excinfo.value.error_dict["identity_number"][0].code == "qatar_id_not_citizen"


def test_clean_reports_persona_and_identity_errors_together():
    user = build(segment=Segment.VISITOR, personas=[Persona.PARENT], identity_number="bad")
    with pytest.raises(ValidationError) as excinfo:
        user.clean()
    assert set(excinfo.value.error_dict) == {"segment", "identity_number"}


@pytest.mark.parametrize(("segment", "persona"), ALLOWED_PAIRS, ids=lambda v: v.value)
def test_clean_accepts_a_valid_person(segment, persona):
    user = build(segment=segment, personas=[persona], identity_number=VALID_NUMBER[segment])
    user.clean()  # no error
    assert user.personas == [persona]


def test_clean_lowercases_the_email():
    user = build(email="Someone@Example.QA")
    user.clean()
    assert user.email == "someone@example.qa"


def test_full_clean_of_a_factory_user_passes():
    UserFactory(personas=[Persona.PARENT]).full_clean()


# ---------------------------------------------------------------------------
# personas, verification
# ---------------------------------------------------------------------------


def test_personas_property_reads_the_flags():
    user = User(segment=Segment.CITIZEN, is_parent=True, is_employee=True)
    assert user.personas == [Persona.PARENT, Persona.EMPLOYEE]


def test_personas_setter_accepts_strings_and_clears_the_rest():
    user = User(segment=Segment.CITIZEN, is_parent=True, is_business_owner=True)
    user.personas = ["employee"]
    assert user.personas == [Persona.EMPLOYEE]
    assert not user.is_parent and not user.is_business_owner


def test_personas_setter_refuses_an_unknown_persona():
    with pytest.raises(ValueError):
        User().personas = ["astronaut"]


def test_personas_survive_a_round_trip_through_the_database():
    user = UserFactory(segment=Segment.VISITOR, personas=[Persona.STUDENT, Persona.TOURIST])
    assert User.objects.get(pk=user.pk).personas == [Persona.STUDENT, Persona.TOURIST]


def test_personas_display_gives_labels():
    user = User(segment=Segment.CITIZEN, is_parent=True)
    with translation.override("en"):
        assert [str(label) for label in user.get_personas_display()] == ["Parent"]


def test_personas_allowed_for_unknown_segment_is_empty():
    assert personas_allowed("") == ()
    assert personas_allowed("martian") == ()


@time_machine.travel(datetime(2026, 3, 1, 9, 30, tzinfo=UTC), tick=False)
def test_mark_verified_sets_state_method_and_date():
    user = UserFactory()
    user.mark_verified(User.VerificationMethod.STAFF)
    user.save()
    user.refresh_from_db()
    assert user.is_verified
    assert user.verification_method == User.VerificationMethod.STAFF
    assert user.verified_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_reset_verification_clears_state_method_and_date():
    user = VerifiedUserFactory()
    assert user.is_verified
    user.reset_verification()
    user.save()
    user.refresh_from_db()
    assert not user.is_verified
    assert user.verification == User.Verification.UNVERIFIED
    assert user.verification_method == ""
    assert user.verified_at is None


def test_new_users_are_unverified():
    user = UserFactory()
    assert user.verification == User.Verification.UNVERIFIED
    assert user.verified_at is None
    assert not user.is_verified


# ---------------------------------------------------------------------------
# Manager and small methods
# ---------------------------------------------------------------------------


def test_create_user_lowercases_the_whole_email_and_hashes_the_password():
    user = User.objects.create_user("Fatima.Ali@Example.QA", "A-long-pass-2026", full_name="Fatima Ali")
    user.refresh_from_db()
    assert user.email == "fatima.ali@example.qa"
    assert user.check_password("A-long-pass-2026")
    assert user.password != "A-long-pass-2026"
    assert not user.is_staff and not user.is_superuser


def test_create_user_without_password_cannot_log_in():
    user = User.objects.create_user("nopass@example.qa", full_name="No Pass")
    assert not user.has_usable_password()


def test_create_user_requires_an_email():
    with pytest.raises(ValueError):
        User.objects.create_user("", "x", full_name="Nobody")


def test_create_superuser_sets_the_flags_and_lowercases_the_email():
    user = User.objects.create_superuser("Boss@Gov.QA", "A-long-pass-2026", full_name="Boss")
    assert user.email == "boss@gov.qa"
    assert user.is_staff and user.is_superuser


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_create_superuser_refuses_a_missing_flag(flag):
    with pytest.raises(ValueError):
        User.objects.create_superuser("boss@gov.qa", "x", full_name="Boss", **{flag: False})
    assert not User.objects.exists()


def test_str_and_names():
    user = User(email="noor@example.qa", full_name="Noor Al-Thani")
    assert str(user) == "noor@example.qa"
    assert user.get_full_name() == "Noor Al-Thani"
    assert user.get_short_name() == "Noor"
    assert User(email="x@example.qa", full_name="").get_short_name() == "x@example.qa"
