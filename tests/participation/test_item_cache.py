"""The per-item cache (participation/item_cache.py): what it keeps, and that pages never show a stale copy."""

import pytest

from participation import item_cache
from participation.models import Option, State
from participation.services import consultation as consultation_service
from tests.builders.items import add_question, make_poll
from tests.builders.users import MINISTRY_STAFF, make_staff

from .conftest import page, url

pytestmark = pytest.mark.django_db


def test_a_correction_shows_on_the_next_view_of_a_cached_page(client, lang):
    poll = make_poll()
    assert "correction-" not in page(client.get(url(lang, "poll_detail", slug=poll.slug)))  # the empty list is cached
    correction = consultation_service.publish_correction(
        make_staff(MINISTRY_STAFF, poll.entity), poll, "تصحيح التاريخ", "Date corrected"
    )
    body = page(client.get(url(lang, "poll_detail", slug=poll.slug)))
    assert f'id="correction-{correction.pk}"' in body


def test_the_questions_of_an_opened_item_come_from_the_cache(django_assert_num_queries):
    poll = make_poll(questions=3, options=4)
    item_cache.questions_of(type(poll).objects.get(pk=poll.pk))
    fresh = type(poll).objects.get(pk=poll.pk)
    with django_assert_num_queries(0):
        questions = item_cache.questions_of(fresh)
        assert [len(question.options.all()) for question in questions] == [4, 4, 4]
        assert all(question.item is fresh for question in questions)


def test_a_draft_is_read_from_the_database_while_staff_edit_it():
    poll = make_poll(state=State.DRAFT)
    assert len(item_cache.questions_of(type(poll).objects.get(pk=poll.pk))) == 1
    add_question(poll, options=2)
    Option.objects.filter(question__item=poll).update(text_en="Edited")
    questions = item_cache.questions_of(type(poll).objects.get(pk=poll.pk))
    assert len(questions) == 2
    assert {option.text_en for question in questions for option in question.options.all()} == {"Edited"}
