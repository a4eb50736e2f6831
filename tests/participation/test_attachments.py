"""The draft document (PDF) of an item: served through the storage API by participation/attachments.py, for
public items only, with debug off, with download headers; never from MEDIA_URL."""

import pytest
from django.core.files.base import ContentFile

from participation.models import State
from tests.builders import actions
from tests.builders.items import make_consultation
from tests.builders.users import MINISTRY_STAFF, make_staff
from tests.factories import EntityFactory, UserFactory

from .conftest import url

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% a draft law\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def consultation_with_pdf(content=PDF, schedule=True):
    """A consultation with its PDF, attached while it is a draft (once it opens, the database refuses it)."""
    item = make_consultation(state=State.DRAFT)
    item.attachment.save("draft law.pdf", ContentFile(content), save=True)
    if schedule:
        actions.schedule(item)
    return item


def download(client, lang, item):
    return client.get(url(lang, "attachment", slug=item.slug), HTTP_ACCEPT_LANGUAGE=lang)


def body(response):
    return b"".join(response.streaming_content)


def test_the_pdf_of_a_public_item_is_a_download_with_debug_off(client, lang, settings):
    assert settings.DEBUG is False  # the test settings are production's: media is not served by Django
    consultation = consultation_with_pdf()
    response = download(client, lang, consultation)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{consultation.slug}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(PDF)
    assert body(response) == PDF


def test_a_draft_is_404_to_the_public_and_to_residents(client, lang):
    draft = consultation_with_pdf(schedule=False)
    assert download(client, lang, draft).status_code == 404
    client.force_login(UserFactory())
    assert download(client, lang, draft).status_code == 404
    client.force_login(make_staff(MINISTRY_STAFF, EntityFactory()))  # staff of another ministry
    assert download(client, lang, draft).status_code == 404


def test_staff_of_the_entity_preview_a_draft_and_it_is_not_cached(client, lang):
    draft = consultation_with_pdf(schedule=False)
    # Whoever reads the draft in the admin (participation/permissions.py, view_item): here its ministry's staff.
    client.force_login(make_staff(MINISTRY_STAFF, draft.entity))
    response = download(client, lang, draft)
    assert response.status_code == 200
    assert body(response) == PDF
    assert "no-store" in response["Cache-Control"]


def test_no_file_or_a_file_the_storage_lost_is_404_not_500(client, lang, media):
    assert download(client, lang, make_consultation()).status_code == 404
    consultation = consultation_with_pdf()
    (media / consultation.attachment.name).unlink()
    assert download(client, lang, consultation).status_code == 404
    assert client.get(f"/{lang}/documents/no-such-item.pdf").status_code == 404


def test_the_file_is_read_through_the_storage_api(client, lang, settings):
    """Another storage backend (here Django's in-memory one; S3 with django-storages) is a settings change."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    consultation = consultation_with_pdf(b"%PDF-1.4\nin memory\n")
    response = download(client, lang, consultation)
    assert response.status_code == 200
    assert body(response) == b"%PDF-1.4\nin memory\n"


def test_media_urls_are_not_served_not_even_for_a_draft(client, lang):
    draft = consultation_with_pdf(schedule=False)
    assert client.get(draft.attachment.url).status_code == 404
    assert client.get(f"/{lang}{draft.attachment.url}").status_code == 404


def test_only_get_and_head(client, lang):
    consultation = consultation_with_pdf()
    assert client.head(url(lang, "attachment", slug=consultation.slug)).status_code == 200
    assert client.post(url(lang, "attachment", slug=consultation.slug)).status_code == 405
