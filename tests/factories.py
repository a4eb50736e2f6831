"""factory_boy factories: one row each, for the people and records of the portal.

Worlds made of several rows (an item with its questions, scheduled; staff in a role; ballots cast through
the services) are built by tests/builders/, which uses these.

Identity numbers are valid for the segment and unique per user:
- citizens: Qatar ID 3 01 634 nnnnn (century 3, year 01, Qatari nationality code 634);
- residents: Qatar ID 3 01 356 nnnnn (nationality code 356, not 634);
- visitors: passport P nnnnnnn (8 capital letters or digits).
The demo accounts of `seed_demo` start with 2, so the two never collide.
"""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Segment, User
from participation.models import Consultation, Entity, Option, PageFeedback, Poll, Question, Referendum, Section

PASSWORD = "Known-Test-Password-2026"

CITIZEN_QID_PREFIX = "301634"
RESIDENT_QID_PREFIX = "301356"


def identity_number_for(segment, n):
    """A valid, unique identity number for the n-th user of a segment ("" for no segment)."""
    serial = n % 100_000
    if segment == Segment.CITIZEN:
        return f"{CITIZEN_QID_PREFIX}{serial:05d}"
    if segment == Segment.RESIDENT:
        return f"{RESIDENT_QID_PREFIX}{serial:05d}"
    if segment == Segment.VISITOR:
        return f"P{n % 10_000_000:07d}"
    return ""


class UserFactory(factory.django.DjangoModelFactory):
    """A signed-up person: citizen by default, e-mail address confirmed, identity not verified.

    `personas=[Persona.PARENT, ...]` goes through the model's `personas` setter;
    `email_confirmed=False` leaves out allauth's verified EmailAddress row.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.qa")
    full_name = factory.Faker("name")
    segment = Segment.CITIZEN
    personas = factory.LazyFunction(list)
    identity_number = factory.LazyAttributeSequence(lambda o, n: identity_number_for(o.segment, n))
    password = factory.django.Password(PASSWORD)
    preferred_language = "ar"

    @factory.post_generation
    def email_confirmed(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class VerifiedUserFactory(UserFactory):
    """A person whose identity number staff have checked."""

    verification = User.Verification.VERIFIED
    verification_method = User.VerificationMethod.STAFF
    verified_at = factory.LazyFunction(timezone.now)


class StaffUserFactory(UserFactory):
    """Ministry staff: admin access, no segment, no identity number."""

    email = factory.Sequence(lambda n: f"staff{n}@gov.example.qa")
    segment = ""
    identity_number = ""
    is_staff = True


class SuperUserFactory(StaffUserFactory):
    email = factory.Sequence(lambda n: f"admin{n}@gov.example.qa")
    is_superuser = True


class PageFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PageFeedback

    path = "/about/"
    language = "ar"
    is_easy = True


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    name_ar = factory.Sequence(lambda n: f"وزارة رقم {n}")
    name_en = factory.Sequence(lambda n: f"Ministry number {n}")
    slug = factory.Sequence(lambda n: f"ministry-{n}")


class ItemFactory(factory.django.DjangoModelFactory):
    """A complete draft: both languages, citizens and residents, opens yesterday, closes in a week."""

    class Meta:
        abstract = True

    entity = factory.SubFactory(EntityFactory)
    slug = factory.Sequence(lambda n: f"item-{n}")
    title_ar = factory.Sequence(lambda n: f"عنوان البند {n}")
    title_en = factory.Sequence(lambda n: f"Item title {n}")
    summary_ar = "ملخص البند للجمهور"
    summary_en = "Summary of the item for the public"
    body_ar = "نص البند الكامل"
    body_en = "Full text of the item"
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + timedelta(days=8))


class PollFactory(ItemFactory):
    class Meta:
        model = Poll

    slug = factory.Sequence(lambda n: f"poll-{n}")


class ReferendumFactory(ItemFactory):
    class Meta:
        model = Referendum

    slug = factory.Sequence(lambda n: f"referendum-{n}")
    requires_verified_identity = True


class ConsultationFactory(ItemFactory):
    class Meta:
        model = Consultation

    slug = factory.Sequence(lambda n: f"consultation-{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    item = factory.SubFactory(PollFactory)
    position = factory.Sequence(lambda n: n + 1)
    text_ar = factory.Sequence(lambda n: f"السؤال رقم {n}؟")
    text_en = factory.Sequence(lambda n: f"Question number {n}?")


class OptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Option

    question = factory.SubFactory(QuestionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text_ar = factory.Sequence(lambda n: f"الخيار {n}")
    text_en = factory.Sequence(lambda n: f"Choice {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    item = factory.SubFactory(ConsultationFactory)
    number = factory.Sequence(lambda n: n + 1)
    heading_ar = factory.Sequence(lambda n: f"القسم {n}")
    heading_en = factory.Sequence(lambda n: f"Section heading {n}")
    body_ar = "نص القسم"
    body_en = "Text of the section"
