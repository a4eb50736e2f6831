"""The item admin form shows Item.clean's errors on the fields, for drafts and scheduled items alike."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone, translation

from participation.models import Poll, State
from tests.builders.items import make_poll
from tests.factories import SuperUserFactory

pytestmark = pytest.mark.django_db


def _form(poll, **changes):
    request = RequestFactory().get("/")
    request.user = SuperUserFactory()
    obj = Poll.objects.get(pk=poll.pk)
    form_class = site._registry[Poll].get_form(request, obj, change=True)
    data = {name: getattr(obj, name) for name in form_class.base_fields if hasattr(obj, name)}
    for name in ("opens_at", "closes_at"):
        data[f"{name}_0"] = getattr(obj, name).strftime("%Y-%m-%d")
        data[f"{name}_1"] = getattr(obj, name).strftime("%H:%M:%S")
    data.update(changes)
    return form_class(data, instance=obj)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_blanking_a_language_of_a_scheduled_poll_is_a_field_error_not_a_crash(lang):
    poll = make_poll(opens_at=timezone.now() + timedelta(days=1))  # scheduled, not open yet: its text is still editable
    with translation.override(lang):
        form = _form(poll, title_en="")
        assert not form.is_valid()
        assert form.errors["title_en"] == [
            translation.gettext("A scheduled item needs this text in both Arabic and English.")
        ]
    poll.refresh_from_db()
    assert poll.title_en


def test_a_scheduled_poll_keeps_its_audience_and_personas_fixed():
    poll = make_poll()
    form = _form(poll)
    for name in (
        "for_visitors",
        "for_citizens",
        "for_residents",
        "only_parents",
        "only_students",
        "requires_verified_identity",
    ):
        assert name not in form.fields


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_draft_without_any_audience_is_refused_on_the_audience_field(lang):
    poll = make_poll(state=State.DRAFT)
    with translation.override(lang):
        form = _form(poll, for_visitors=False, for_citizens=False, for_residents=False)
        assert not form.is_valid()
        assert form.errors["for_citizens"] == [
            translation.gettext("Choose at least one group of people who may take part.")
        ]


def test_a_draft_that_closes_before_it_opens_is_refused_on_closes_at():
    poll = make_poll(state=State.DRAFT)
    form = _form(poll, closes_at_0=poll.opens_at.strftime("%Y-%m-%d"), closes_at_1=poll.opens_at.strftime("%H:%M:%S"))
    assert not form.is_valid()
    assert "closes_at" in form.errors
