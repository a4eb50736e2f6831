"""`manage.py verify_export FILE`: the ballots CSV an auditor downloaded, checked against the published digest.

Each test downloads the file through the auditors' page (as an auditor would), writes it to disk,
and runs the command on it; then changes the file the way a forger would and expects MISMATCH.
"""

import pytest
from django.core.management.base import CommandError

from participation.models import Result
from tests.answers import body_of, export_url, run_command
from tests.builders.audit import bus_poll, new_law_referendum, still_open_poll, transport_ministry

pytestmark = pytest.mark.django_db


def download(client, lang, item, name, tmp_path):
    response = client.get(export_url(lang, item, name))
    assert response.status_code == 200
    path = tmp_path / f"{item.slug}-{name}.csv"
    path.write_bytes(body_of(response))
    return path


def verify(path):
    return run_command("verify_export", str(path))


def edit_lines(path, change):
    """Apply `change` to the list of data lines (header kept) and write the file back, CRLF and BOM intact."""
    text = path.read_bytes().decode("utf-8")
    header, *lines = text.split("\r\n")
    assert lines[-1] == ""
    path.write_bytes("\r\n".join([header, *change(lines[:-1]), ""]).encode("utf-8"))


def test_a_downloaded_poll_ballots_file_matches_the_published_result(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    code, out = verify(download(auditor_client, lang, poll, "ballots", tmp_path))
    digest = Result.objects.get(item=poll).ballots_digest
    assert code == 0, out
    assert "OK" in out
    assert "MISMATCH" not in out
    assert out.count(digest) == 3  # the file's digest, the published one and the one on the audit trail
    assert "ballots in file: 3; ballots counted in the result: 3" in out


def test_a_downloaded_referendum_ballots_file_matches_the_published_result(auditor_client, lang, tmp_path):
    referendum, _receipts = new_law_referendum()
    code, out = verify(download(auditor_client, lang, referendum, "ballots", tmp_path))
    assert code == 0, out
    assert "OK" in out
    assert Result.objects.get(item=referendum).ballots_digest in out


def change_first_option(lines):
    fields = lines[0].split(",")
    fields[4] = "2" if fields[4] != "2" else "1"
    return [",".join(fields), *lines[1:]]


@pytest.mark.parametrize(
    "forgery",
    [
        change_first_option,
        lambda lines: lines[1:],  # a ballot removed
        lambda lines: [*lines, lines[-1]],  # a ballot added twice
        lambda lines: [lines[0].replace("citizen", "visitor"), *lines[1:]],  # a poll segment changed
    ],
    ids=["option-changed", "ballot-removed", "ballot-duplicated", "segment-changed"],
)
def test_a_tampered_poll_ballots_file_is_a_mismatch(auditor_client, lang, tmp_path, forgery):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    edit_lines(path, forgery)
    code, out = verify(path)
    assert code == 1
    assert "MISMATCH" in out
    assert "OK" not in out


def test_a_tampered_referendum_file_is_a_mismatch(auditor_client, lang, tmp_path):
    referendum, _receipts = new_law_referendum()
    path = download(auditor_client, lang, referendum, "ballots", tmp_path)
    edit_lines(path, lambda lines: [lines[0].replace("AAAA-BBBB", "AAAA-BBBC"), *lines[1:]])
    code, out = verify(path)
    assert (code, "MISMATCH" in out) == (1, True), out


def test_option_texts_are_checked_although_they_do_not_enter_the_digest(auditor_client, lang, tmp_path):
    """Only type, slug, receipt, question, option and segment make the digest; the labels are checked one by one."""
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    edit_lines(path, lambda lines: [line.replace("No opinion", "No view") for line in lines])
    code, out = verify(path)
    assert code == 1, out
    assert "option 0 is labelled 'لا رأي' / 'No view', but it is 'لا رأي' / 'No opinion'" in out
    assert Result.objects.get(item=poll).ballots_digest in out.split("digest of file:")[1].splitlines()[0]


def test_a_file_saved_again_without_bom_and_crlf_still_verifies(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    path.write_bytes(data[3:].replace(b"\r\n", b"\n"))
    code, out = verify(path)
    assert code == 0, out


def test_another_export_is_refused(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "results", tmp_path)
    with pytest.raises(CommandError, match="is not a ballots export"):
        verify(path)


def test_ballots_of_two_items_in_one_file_are_refused(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    other, _people = bus_poll(slug="other-poll")
    first = download(auditor_client, lang, poll, "ballots", tmp_path)
    second = download(auditor_client, lang, other, "ballots", tmp_path)
    other_rows = second.read_bytes().split(b"\r\n", 1)[1]
    first.write_bytes(first.read_bytes() + other_rows)
    with pytest.raises(CommandError, match="belongs to another item"):
        verify(first)


def test_a_file_without_ballots_is_refused(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    edit_lines(path, lambda lines: [])
    with pytest.raises(CommandError, match="no ballots"):
        verify(path)


def test_ballots_of_an_item_without_a_published_result_are_refused(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    edit_lines(path, lambda lines: [line.replace(poll.slug, "no-such-poll") for line in lines])
    with pytest.raises(CommandError, match="No published result"):
        verify(path)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        verify(tmp_path / "nowhere.csv")


def test_an_unreadable_option_is_a_clear_error(auditor_client, lang, tmp_path):
    poll, _people = bus_poll()
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    edit_lines(path, lambda lines: [lines[0].replace(",1,0,", ",1,zero,"), *lines[1:]])
    with pytest.raises(CommandError, match="Line 2 cannot be read"):
        verify(path)


def test_a_slug_that_starts_with_a_dash_survives_the_round_trip(auditor_client, lang, tmp_path):
    """A slug may begin with "-" (Django's slug validator allows it); the export neutralises that cell
    ("'-bus-routes"), so verify_export must read the neutralised cell back to find the result."""
    poll, _people = bus_poll(slug="-bus-routes", entity=transport_ministry())
    path = download(auditor_client, lang, poll, "ballots", tmp_path)
    assert b",'-bus-routes," in path.read_bytes()
    code, out = verify(path)
    assert code == 0, out


def test_an_open_poll_has_no_ballots_file_to_verify(auditor_client, lang):
    poll = still_open_poll()
    assert auditor_client.get(export_url(lang, poll, "ballots")).status_code == 409
