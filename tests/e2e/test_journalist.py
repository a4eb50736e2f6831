"""Scenario: a journalist finds a ministry's overdue outcomes on "You said, we did" and downloads the table.

No account: from the footer of the home page to the government-wide record, to one ministry's page,
filtered to its overdue outcomes, then to the open data page, where the consultations table is
downloaded and checked against the checksum the page shows.
"""

import csv
import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.builders import items
from tests.builders.audit import closed_consultation
from tests.e2e.ui import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_journalist_finds_overdue_outcomes_and_downloads_the_table(lang, page, a11y, t, tmp_path):
    now = timezone.now()
    transport = items.make_entity(name_ar="وزارة المواصلات", name_en="Ministry of Transport", slug="transport")
    health = items.make_entity(name_ar="وزارة الصحة العامة", name_en="Ministry of Public Health", slug="health")
    long_ago = now - timedelta(days=200)
    on_time = closed_consultation(
        "bus-fares", entity=transport, closes_at=long_ago, published_at=long_ago + timedelta(days=20), took_part=2
    )
    overdue = closed_consultation("taxi-licences", entity=transport, closes_at=long_ago, took_part=3)
    closed_consultation(
        "clinic-hours", entity=health, closes_at=long_ago, published_at=long_ago + timedelta(days=10), took_part=1
    )

    def title(item):
        return item.title_ar if lang == "ar" else item.title_en

    page.goto(f"/{lang}/")
    page.locator("footer").get_by_role("link", name=t("You said, we did")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/you-said-we-did/$"))
    expect(page.locator("main h1")).to_have_text(t("You said, we did"))
    a11y.check(page, "you said, we did")

    # The government-wide table: the transport ministry has one overdue outcome, shown as a number.
    table = page.get_by_role(
        "table", name=t("Closed items, people who took part and outcomes published on time, per ministry")
    )
    row = table.locator("tbody tr").filter(
        has=page.get_by_role("link", name=transport.name_ar if lang == "ar" else transport.name_en)
    )
    expect(row.locator("td").nth(5)).to_have_text("1")
    expect(row.locator("td").nth(6)).to_have_text("50.0%")
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/{lang}/you-said-we-did/transport/$"))

    # Only the overdue ones, with the filter (a plain form: it works without JavaScript too).
    page.get_by_label(t("Outcome"), exact=True).select_option("overdue")
    page.get_by_role("button", name=t("Show")).click()
    expect(page).to_have_url(re.compile(r"\?status=overdue$"))
    results = page.locator("#consultations-title + form + ol > li")
    expect(results).to_have_count(1)
    expect(results.get_by_role("heading", level=3)).to_have_text(title(overdue))
    expect(results.locator(".overdue")).to_have_text(t("Overdue"))
    expect(page.get_by_role("link", name=title(on_time))).to_have_count(0)
    a11y.check(page, "one ministry's overdue outcomes")

    # The open data page, and the table of every closed consultation as CSV.
    page.get_by_role("link", name=t("Download this record as open data (CSV or JSON)")).click()
    expect(page.locator("main h1")).to_have_text(t("Open data"))
    a11y.check(page, "open data")
    link = page.get_by_role("link", name="accountability-consultations.csv")
    shown_checksum = link.locator("xpath=ancestor::tr").locator("code").inner_text()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "accountability-consultations.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    raw = target.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == shown_checksum
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))}
    assert rows["taxi-licences"]["outcome_status"] == "overdue"
    assert rows["taxi-licences"]["entity"] == "transport"
    assert rows["taxi-licences"]["title_ar"] == overdue.title_ar
    assert rows["taxi-licences"]["took_part"] == "3"
    assert rows["bus-fares"]["outcome_status"] == "on_time"
    assert rows["bus-fares"]["what_changed_en"] == "What we changed in bus-fares"
    a11y.assert_clean()
