"""Time left on cards: "يُغلق بعد أسبوع واحد و4 أيام", never "1 أسبوع، 4 أيام" (issue 12)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from participation.templatetags.durations import time_left
from tests.builders.items import make_poll

from .conftest import assert_shown, page, url

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Qatar"))


@pytest.mark.parametrize(
    ("left", "arabic", "english"),
    [
        (timedelta(weeks=1, days=4), "أسبوع واحد و4 أيام", "1 week and 4 days"),
        (timedelta(weeks=2, days=1), "أسبوعين ويوم واحد", "2 weeks and 1 day"),
        (timedelta(weeks=2), "أسبوعين", "2 weeks"),
        (timedelta(weeks=3, days=2), "3 أسابيع ويومين", "3 weeks and 2 days"),
        (timedelta(weeks=11), "11 أسبوعًا", "11 weeks"),
        (timedelta(weeks=100), "100 أسبوع", "100 weeks"),
        (timedelta(days=1, hours=5), "يوم واحد و5 ساعات", "1 day and 5 hours"),
        (timedelta(hours=11, minutes=3), "11 ساعة و3 دقائق", "11 hours and 3 minutes"),
        (timedelta(hours=2, minutes=2), "ساعتين ودقيقتين", "2 hours and 2 minutes"),
        (timedelta(minutes=1, seconds=59), "دقيقة واحدة", "1 minute"),
        (timedelta(minutes=25), "25 دقيقة", "25 minutes"),
        (timedelta(seconds=30), "أقل من دقيقة", "less than a minute"),
        (timedelta(seconds=-5), "أقل من دقيقة", "less than a minute"),
        # Two adjacent units at most, as Django's timeuntil: the minutes of a week-long wait are noise.
        (timedelta(weeks=1, hours=3), "أسبوع واحد", "1 week"),
    ],
)
def test_time_left_in_words(left, arabic, english):
    with translation.override("ar"):
        assert time_left(NOW + left, NOW) == arabic
    with translation.override("en"):
        assert time_left(NOW + left, NOW) == english


def test_the_card_phrase_reads_as_one_arabic_sentence(time_machine):
    time_machine.move_to(NOW, tick=False)
    template = Template(
        "{% load i18n durations %}{% blocktranslate with left=when|timeleft %}Closes in {{ left }}{% endblocktranslate %}"
    )
    with translation.override("ar"):
        text = template.render(Context({"when": NOW + timedelta(weeks=1, days=4)}))
    assert text == "يُغلق بعد أسبوع واحد و4 أيام"


def test_no_date_renders_nothing():
    assert Template("{% load durations %}[{{ when|timeleft }}]").render(Context({"when": None})) == "[]"


COUNTS_ON_THE_LIST = {
    "ar": ("يُغلق بعد أسبوع واحد و4 أيام", "تم العثور على موضوع واحد"),
    "en": ("Closes in 1 week and 4 days", "1 item found"),
}


@pytest.mark.django_db
def test_the_card_and_the_count_on_the_list_page(client, lang, time_machine):
    time_machine.move_to(NOW, tick=False)
    make_poll(opens_at=NOW - timedelta(days=1), closes_at=NOW + timedelta(weeks=1, days=4))
    response = client.get(url(lang, "list"))
    closes, found = COUNTS_ON_THE_LIST[lang]
    assert_shown(response, closes)
    assert_shown(response, found)
    assert "1 أسبوع" not in page(response)


@pytest.mark.django_db
def test_an_empty_list_says_so_in_words(client):
    response = client.get(url("ar", "list"))
    assert_shown(response, "لم يُعثر على أي موضوع")
    assert "0 موضوع" not in page(response)
