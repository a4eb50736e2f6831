"""Scenario 5: an auditor downloads a results CSV from /<lang>/audit/; the test parses it, Arabic intact."""

import csv
import hashlib
import io
import re

import pytest

from participation.models import AuditEntry, Result
from participation.services import lifecycle, voting
from tests.builders import scenarios, users
from tests.e2e.ui import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_downloads_the_results_csv_with_arabic_intact(lang, page, a11y, t, tmp_path):
    poll = scenarios.open_poll(title_ar="استطلاع الدراجات الهوائية «٢٠٢٦»", title_en="Cycling lanes, 2026")
    first, second = poll.questions.order_by("position")
    support, oppose = first.options.order_by("position")
    evening, midnight, _dawn = second.options.order_by("position")
    for chosen, times in ((support, [evening]), (support, [evening, midnight]), (oppose, [midnight])):
        voting.cast_poll_ballot(
            users.person(), poll, {first.pk: [str(chosen.pk)], second.pk: [str(o.pk) for o in times]}
        )
    assert lifecycle.close_item(poll.pk)
    result = Result.objects.get(item=poll)
    auditor = users.auditor(full_name="Khalid Al-Sulaiti")

    sign_in(page, lang, auditor)
    page.locator("header").get_by_role("link", name=t("Audit")).click()
    expect(page).to_have_url(re.compile(rf"/{lang}/audit/$"))
    expect(page.locator("main h1")).to_have_text(t("Audit exports"))
    a11y.check(page, "audit exports")

    row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("link", name=poll.title_ar if lang == "ar" else poll.title_en)
    )
    link = row.get_by_role("link", name=t("Results CSV"))
    expect(link).to_have_count(1)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"poll-{poll.slug}-results.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    raw = target.read_bytes()

    # UTF-8 with a byte-order mark (for spreadsheets), CRLF line ends, Arabic byte for byte.
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows, text
    assert {r["slug"] for r in rows} == {poll.slug}
    assert {r["title_ar"] for r in rows} == {"استطلاع الدراجات الهوائية «٢٠٢٦»"}
    assert {r["title_en"] for r in rows} == {"Cycling lanes, 2026"}
    votes = {(r["question_ar"], r["option_ar"]): int(r["votes"]) for r in rows}
    assert votes == {
        (first.text_ar, support.text_ar): 2,
        (first.text_ar, oppose.text_ar): 1,
        (second.text_ar, evening.text_ar): 2,
        (second.text_ar, midnight.text_ar): 2,
        (second.text_ar, "الفجر"): 0,
    }
    assert {r["option_en"] for r in rows} == {"I support it", "I do not support it", "Evening", "Midnight", "Dawn"}
    assert {r["ballots"] for r in rows} == {"3"}
    assert {r["ballots_digest"] for r in rows} == {result.ballots_digest}

    # The companion checksum matches the file as downloaded.
    with page.expect_download() as checksum_info:
        row.locator("li").filter(has_text=t("Results CSV")).get_by_role("link", name=".sha256").click()
    checksum_file = tmp_path / checksum_info.value.suggested_filename
    checksum_info.value.save_as(checksum_file)
    checksum_line = checksum_file.read_text("utf-8").splitlines()[0]  # then the audit checkpoint, as # comments
    assert checksum_line.split() == [hashlib.sha256(raw).hexdigest(), download.suggested_filename]

    # The download is on the audit trail.
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=auditor, object_id=str(poll.pk)).exists()
    a11y.check(page, "audit exports (after download)")
    a11y.assert_clean()
