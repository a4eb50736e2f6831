"""`make screenshots`: PNGs of the home page, a poll, a results page, "You said, we did" and the admin item form,
in Arabic and English, at 1280x900, and on a phone (390x844) the home page with its menu open, a referendum's "check your
answer" and a results page, under docs/screenshots/. Uses the demo content of `seed_demo`.

Not collected by `make test` (the file name does not start with test_); run it by its path:
    .venv/bin/python -m pytest tests/e2e/screenshots.py
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from participation import demo
from participation.models import Item, Poll, State
from tests.builders import items
from tests.e2e.ui import admin_sign_in, expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "docs" / "screenshots"
OPEN_POLL = "metro-night-service"
REFERENDUM = "healthy-schools-law"
PHONE = {"width": 390, "height": 844}
CLOSED_POLL = "cycling-lanes-2026"


class Demo:
    def __init__(self, email):
        self.email = email


def shoot(page, name, lang):
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target = OUTPUT / f"{name}-{lang}.png"
    page.screenshot(path=str(target), full_page=False)
    print(f"wrote {target.relative_to(settings.BASE_DIR)}")


def test_screenshots(lang, new_context):
    call_command("seed_demo", "--force", verbosity=0)
    password = settings.DEMO_PASSWORD
    poll = Item.objects.get(slug=OPEN_POLL)

    # Home page and an open poll, as a citizen who may vote.
    page = new_context(lang).new_page()
    sign_in(page, lang, Demo("citizen@demo.hukoomi.qa"), password=password)
    page.goto(f"/{lang}/")
    expect(page.locator("#opportunities article").first).to_be_visible()
    shoot(page, "home", lang)
    page.goto(f"/{lang}/polls/{OPEN_POLL}/")
    expect(page.locator("form.ballot")).to_be_visible()
    shoot(page, "poll", lang)

    # The results of a closed poll, with the chart.
    page.goto(f"/{lang}/polls/{CLOSED_POLL}/results/")
    expect(page.locator("svg.result-bar-svg").first).to_be_visible()
    shoot(page, "results", lang)

    # "You said, we did": every ministry's record of responding, with its charts.
    page.goto(f"/{lang}/you-said-we-did/")
    expect(page.locator("svg.result-bar-svg").first).to_be_visible()
    page.locator("#table-title").scroll_into_view_if_needed()
    shoot(page, "accountability", lang)
    # On a phone: the header's menu, "check your answer" before a referendum vote, and results in plain words.
    phone = new_context(lang, viewport=PHONE).new_page()
    sign_in(phone, lang, Demo("citizen@demo.hukoomi.qa"), password=password)
    phone.goto(f"/{lang}/")
    phone.locator("summary.portal-menu-button").click()
    expect(phone.locator(".portal-nav-narrow")).to_be_visible()
    shoot(phone, "home-phone", lang)
    phone.goto(f"/{lang}/referendums/{REFERENDUM}/")
    phone.locator("form.ballot input[name=choice]").first.check()
    phone.locator("form.ballot button[type=submit]").click()
    expect(phone.locator("[data-chosen]")).to_be_visible()
    shoot(phone, "referendum-check-phone", lang)
    phone.goto(f"/{lang}/polls/{CLOSED_POLL}/results/")
    expect(phone.locator(".results-headline")).to_be_visible()
    shoot(phone, "results-phone", lang)

    # The admin's item form, in the browser's language: a draft poll being written.
    draft = Poll.objects.create(
        entity=poll.entity,
        slug="weekend-bus-lanes",
        state=State.DRAFT,
        title_ar="مسارات الحافلات في عطلة نهاية الأسبوع",
        title_en="Bus lanes at weekends",
        summary_ar="هل يجب تخصيص مسارات للحافلات يومي الجمعة والسبت؟",
        summary_en="Should bus lanes apply on Fridays and Saturdays?",
        body_ar=demo.BODY[0],
        body_en=demo.BODY[1],
        opens_at=timezone.now() + timedelta(days=3),
        closes_at=timezone.now() + timedelta(days=24),
    )
    items.add_question(
        draft,
        [("أؤيد", "I support it"), ("لا أؤيد", "I do not")],
        text_ar="هل تؤيد المقترح؟",
        text_en="Do you support the proposal?",
    )
    admin = new_context(lang).new_page()
    admin_sign_in(admin, Demo("admin@demo.hukoomi.qa"), password=password)
    admin.goto(f"/admin/participation/poll/{draft.pk}/change/")
    expect(admin.locator("#id_title_ar")).to_have_value(draft.title_ar)
    shoot(admin, "admin-poll", lang)
