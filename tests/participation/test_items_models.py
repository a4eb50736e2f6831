"""Items, questions, options, sections and comments: fields, database constraints, the clock."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import translation

from accounts.models import Persona, Segment
from participation.models import (
    Comment,
    Item,
    Kind,
    Option,
    Poll,
    Question,
    Referendum,
    State,
)
from participation.services import consultation as consultation_service
from participation.validators import MAX_ATTACHMENT_BYTES, validate_pdf
from tests.builders.items import make_consultation, make_poll
from tests.factories import ConsultationFactory, OptionFactory, PollFactory, QuestionFactory, ReferendumFactory

pytestmark = pytest.mark.django_db

DOHA = ZoneInfo("Asia/Qatar")
OPENS = datetime(2026, 3, 1, 8, 0, tzinfo=DOHA)
CLOSES = datetime(2026, 3, 15, 20, 0, tzinfo=DOHA)
TICK = timedelta(microseconds=1)


def refused_by_database(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        PollFactory(**fields)


# ---------------------------------------------------------------------------
# Bilingual content
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expected"), [("ar", "عنوان عربي"), ("en", "English title")])
def test_title_summary_and_body_follow_the_active_language(lang, expected):
    poll = PollFactory(title_ar="عنوان عربي", title_en="English title", summary_ar="ملخص", summary_en="Summary")
    with translation.override(lang):
        assert poll.title == expected
        assert poll.summary == {"ar": "ملخص", "en": "Summary"}[lang]
        assert str(poll) == expected


def test_a_half_written_draft_falls_back_to_the_other_language():
    draft = PollFactory(title_en="")
    with translation.override("en"):
        assert draft.title == draft.title_ar
    assert draft.missing_translations() == ["title_en"]


def test_the_type_comes_from_the_proxy_and_each_manager_sees_only_its_type():
    poll, referendum, consultation = PollFactory(), ReferendumFactory(), ConsultationFactory()
    assert (poll.kind, referendum.kind, consultation.kind) == (Kind.POLL, Kind.REFERENDUM, Kind.CONSULTATION)
    assert list(Poll.objects.all()) == [poll]
    assert list(Referendum.objects.all()) == [referendum]
    assert Item.objects.count() == 3


def test_a_referendum_always_requires_a_verified_identity_and_never_shows_live_results():
    referendum = ReferendumFactory(requires_verified_identity=False, live_results=True)
    referendum.refresh_from_db()
    assert referendum.requires_verified_identity is True
    assert referendum.live_results is False
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=referendum.pk).update(requires_verified_identity=False)


# ---------------------------------------------------------------------------
# Constraints and validation
# ---------------------------------------------------------------------------


def test_the_database_refuses_an_item_that_closes_before_it_opens():
    refused_by_database(opens_at=CLOSES, closes_at=OPENS)
    refused_by_database(opens_at=OPENS, closes_at=OPENS)


def test_the_database_refuses_an_item_without_an_audience():
    refused_by_database(for_visitors=False, for_citizens=False, for_residents=False)


@pytest.mark.parametrize("field", ["title_ar", "title_en", "summary_ar", "summary_en", "body_ar", "body_en"])
def test_the_database_refuses_a_scheduled_item_missing_a_language(field):
    PollFactory(**{field: ""})  # a draft may be half-written
    refused_by_database(state=State.SCHEDULED, **{field: ""})


def test_slugs_are_unique():
    PollFactory(slug="metro-night-service")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferendumFactory(slug="metro-night-service")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_clean_explains_each_problem_on_its_field(lang):
    item = PollFactory.build(
        opens_at=CLOSES, closes_at=OPENS, for_citizens=False, for_residents=False, state=State.SCHEDULED, body_en=""
    )
    with pytest.raises(ValidationError) as error:
        item.clean()
    with translation.override(lang):
        messages = error.value.message_dict
        assert messages["closes_at"] == [translation.gettext("The closing time must be after the opening time.")]
        assert messages["for_citizens"] == [
            translation.gettext("Choose at least one group of people who may take part.")
        ]
        # On the empty field itself, which the admin form has; never on "state", which it does not.
        assert messages["body_en"] == [
            translation.gettext("A scheduled item needs this text in both Arabic and English.")
        ]
        assert "state" not in messages


def test_clean_accepts_a_complete_item():
    PollFactory.build(opens_at=OPENS, closes_at=CLOSES, state=State.SCHEDULED).clean()


def test_audiences_and_personas_are_read_from_the_flags():
    poll = PollFactory(for_visitors=True, for_citizens=False, for_residents=True, only_parents=True, only_students=True)
    assert poll.segments == [Segment.VISITOR, Segment.RESIDENT]
    assert poll.personas == [Persona.STUDENT, Persona.PARENT]


# ---------------------------------------------------------------------------
# The clock
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (OPENS - TICK, State.SCHEDULED),
        (OPENS, State.OPEN),
        (CLOSES - TICK, State.OPEN),
        (CLOSES, State.CLOSED),
        (CLOSES + timedelta(days=30), State.CLOSED),
    ],
)
@pytest.mark.parametrize("stored", [State.SCHEDULED, State.OPEN])
def test_open_and_closed_follow_the_clock_whatever_the_stored_state(moment, expected, stored):
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    Item.objects.filter(pk=poll.pk).update(state=stored)
    poll.refresh_from_db()
    assert poll.current_state(moment) == expected
    assert poll.is_open(moment) is (expected == State.OPEN)
    assert poll.has_closed(moment) is (expected == State.CLOSED)
    assert list(Item.objects.open(moment)) == ([poll] if expected == State.OPEN else [])
    assert list(Item.objects.upcoming(moment)) == ([poll] if expected == State.SCHEDULED else [])
    assert list(Item.objects.closed(moment)) == ([poll] if expected == State.CLOSED else [])


@pytest.mark.parametrize("stored", [State.DRAFT, State.CLOSED, State.PUBLISHED])
def test_drafts_and_finished_items_keep_their_stored_state(stored):
    poll = PollFactory(opens_at=OPENS, closes_at=CLOSES)
    Item.objects.filter(pk=poll.pk).update(state=stored)
    poll.refresh_from_db()
    for moment in (OPENS - TICK, OPENS + TICK, CLOSES + TICK):
        assert poll.current_state(moment) == stored
    assert Item.objects.open(OPENS + TICK).count() == 0


def test_the_default_clock_is_now():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    with time_machine.travel(CLOSES - TICK, tick=False):
        assert poll.is_open()
        assert Item.objects.open().count() == 1
    with time_machine.travel(CLOSES, tick=False):
        assert poll.has_closed()
        assert Item.objects.closed().count() == 1


def test_public_items_leave_out_drafts():
    draft = PollFactory()
    scheduled = make_poll()
    assert list(Item.objects.public()) == [scheduled]
    assert draft not in Item.objects.open()


def test_items_for_an_audience():
    everyone = make_poll(for_visitors=True)
    citizens = make_poll(for_residents=False)
    parents = make_poll(only_parents=True)
    assert set(Item.objects.for_audience(Segment.VISITOR)) == {everyone}
    assert set(Item.objects.for_audience(Segment.CITIZEN)) == {everyone, citizens, parents}
    assert set(Item.objects.for_audience(Segment.RESIDENT)) == {everyone, parents}
    assert set(Item.objects.for_audience(Segment.CITIZEN, Persona.PARENT)) == {everyone, citizens, parents}
    assert set(Item.objects.for_audience(Segment.CITIZEN, Persona.EMPLOYEE)) == {everyone, citizens}


# ---------------------------------------------------------------------------
# Consultation outcome dates
# ---------------------------------------------------------------------------


def test_the_outcome_is_due_12_weeks_after_closing_by_default():
    consultation = make_consultation(opens_at=OPENS, closes_at=CLOSES)
    assert consultation.outcome_due() == CLOSES + timedelta(weeks=12)
    consultation.outcome_due_at = CLOSES + timedelta(weeks=4)
    assert consultation.outcome_due() == CLOSES + timedelta(weeks=4)


def test_the_outcome_is_overdue_only_after_its_due_date_and_until_published():
    consultation = make_consultation(opens_at=OPENS, closes_at=CLOSES)
    due = CLOSES + timedelta(weeks=12)
    assert not consultation.outcome_overdue(due)
    assert consultation.outcome_overdue(due + TICK)
    consultation.outcome_published_at = due - timedelta(days=1)
    assert not consultation.outcome_overdue(due + timedelta(days=1))


def test_polls_are_never_overdue():
    poll = make_poll(opens_at=OPENS, closes_at=CLOSES)
    assert not poll.outcome_overdue(CLOSES + timedelta(weeks=52))


# ---------------------------------------------------------------------------
# Questions, options, comments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": Question.Kind.SINGLE, "min_choices": 1, "max_choices": 2},
        {"kind": Question.Kind.MULTIPLE, "min_choices": 3, "max_choices": 2},
        {"kind": Question.Kind.MULTIPLE, "min_choices": 0, "max_choices": 2},
        {"kind": Question.Kind.MULTIPLE, "min_choices": 1, "max_choices": 21},
    ],
    ids=["single-with-two", "max-below-min", "min-zero", "max-over-20"],
)
def test_the_database_refuses_impossible_selection_bounds(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionFactory(**fields)


def test_a_multiple_choice_question_within_bounds_is_stored():
    question = QuestionFactory(kind=Question.Kind.MULTIPLE, min_choices=2, max_choices=20)
    assert question.is_multiple


def test_question_clean_makes_single_choice_one_and_one():
    question = QuestionFactory.build(kind=Question.Kind.SINGLE, min_choices=2, max_choices=3)
    question.clean()
    assert (question.min_choices, question.max_choices) == (1, 1)
    with pytest.raises(ValidationError):
        QuestionFactory.build(kind=Question.Kind.MULTIPLE, min_choices=3, max_choices=2).clean()


def test_positions_are_unique_within_an_item_and_within_a_question():
    question = QuestionFactory(position=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionFactory(item=question.item, position=1)
    OptionFactory(question=question, position=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OptionFactory(question=question, position=1)
    OptionFactory(position=1)  # the same position in another question is fine
    assert Option.objects.filter(position=1).count() == 2


def test_a_hidden_comment_must_have_a_reason_and_a_comment_at_most_2000_characters(citizen):
    consultation = make_consultation()
    comment = consultation_service.add_comment(citizen, consultation, "Plain words")
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN, moderation_reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(body="x" * 2001)
    Comment.objects.filter(pk=comment.pk).update(body="x" * 2000)


# ---------------------------------------------------------------------------
# The draft document (PDF)
# ---------------------------------------------------------------------------


def pdf(name="draft.pdf", content=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_real_pdf_is_accepted():
    validate_pdf(pdf())


@pytest.mark.parametrize(
    "upload",
    [
        pdf("draft.pdf", b"MZ\x90\x00 not a pdf"),
        pdf("draft.exe", b"%PDF-1.7 but named otherwise"),
        pdf("draft.pdf", b""),
    ],
    ids=["pdf-name-other-content", "pdf-content-other-name", "empty"],
)
def test_only_pdf_documents_can_be_attached(upload):
    with pytest.raises(ValidationError) as error:
        validate_pdf(upload)
    assert error.value.code == "not_pdf"


def test_documents_over_10_mb_are_refused():
    big = InMemoryUploadedFile(
        io.BytesIO(b"%PDF-1.7"), "attachment", "big.pdf", "application/pdf", MAX_ATTACHMENT_BYTES + 1, None
    )
    with pytest.raises(ValidationError) as error:
        validate_pdf(big)
    assert error.value.code == "too_large"
    exactly = InMemoryUploadedFile(
        io.BytesIO(b"%PDF-1.7"), "attachment", "ok.pdf", "application/pdf", MAX_ATTACHMENT_BYTES, None
    )
    validate_pdf(exactly)


def test_the_attachment_field_checks_the_file_when_an_item_is_validated():
    consultation = ConsultationFactory.build(attachment=pdf("notes.pdf", b"<html>"))
    with pytest.raises(ValidationError) as error:
        consultation.full_clean(exclude=["entity"])
    assert "attachment" in error.value.message_dict
