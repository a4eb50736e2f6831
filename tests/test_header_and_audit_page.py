"""The header on phones (a <details> menu that works without JavaScript), the badges' size, and the auditors'
page (Latin file names isolated from the Arabic around them, the downloadable verifier) (issue 12)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from participation.models import State
from tests.builders.items import close, count, make_poll, question_and_options, vote
from tests.builders.users import person

pytestmark = pytest.mark.django_db

PORTAL_CSS = Path(settings.BASE_DIR) / "static" / "css" / "portal.css"


def t(lang, message):
    with translation.override(lang):
        return translation.gettext(message)


def links(fragment):
    return re.findall(r'<a class="nav-link" href="([^"]+)"', fragment)


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_phone_menu_is_a_details_element_with_the_same_links(client, lang, signed_in):
    if signed_in:
        client.force_login(person())
    html = client.get(f"/{lang}/about/").content.decode()
    header = re.search(r'<header class="portal-header">(.*?)</header>', html, re.S).group(1)
    wide = re.search(r'<ul class="navbar-nav portal-nav-wide[^"]*">(.*?)</ul>', header, re.S).group(1)
    menu = re.search(
        r'<details class="portal-menu">\s*<summary class="portal-menu-button">(.*?)</summary>(.*?)</details>',
        header,
        re.S,
    )
    assert menu, "no <details> menu"
    assert t(lang, "Menu") in menu.group(1)
    assert links(menu.group(2)) == links(wide) and len(links(wide)) >= 4
    if signed_in:
        assert t(lang, "Sign out") in menu.group(2)
    # One language switch, outside the menu, so that it is one tap away on a phone too.
    assert header.count("language-switch") == 1
    assert "language-switch" not in menu.group(2)


def test_the_stylesheet_collapses_the_links_on_small_screens_and_sizes_badges():
    css = PORTAL_CSS.read_text(encoding="utf-8")
    small = re.search(r"@media \(max-width: 991\.98px\) \{(.*?)\n\}", css, re.S).group(1)
    assert re.search(r"\.portal-nav-wide \{ display: none !important; \}", small)
    assert re.search(r"\.portal-menu \{ display: block; \}", small)
    assert re.search(r"^\.portal-menu \{ display: none; \}", css, re.M)
    assert re.search(r"^\.badge \{ font-size: max\(0\.875rem, 0\.75em\); \}", css, re.M), "badges at least 14 px"


def test_the_auditors_page_isolates_latin_file_names(auditor_client, lang):
    poll = make_poll(options=2, state=State.OPEN)
    _question, (first, _second) = question_and_options(poll)
    vote(person(), poll, [first])
    count(close(poll))
    html = auditor_client.get(f"/{lang}/audit/").content.decode()
    main = html.split('<main id="main"', 1)[1]
    # Every ".sha256" shown is inside <bdi dir="ltr"> (or a <code dir="ltr">), never loose in Arabic text.
    loose = re.sub(r'<bdi dir="ltr">.*?</bdi>|<code dir="ltr">.*?</code>', "", main, flags=re.S)
    assert ".sha256<" not in loose and ".sha256 " not in loose and ".sha256." not in loose
    assert main.count('<bdi dir="ltr">.sha256</bdi>') >= 2  # the explanation and each link
    assert re.search(r'<a href="/[a-z]{2}/audit/poll/[^"]+\.csv\.sha256"><bdi dir="ltr">\.sha256</bdi></a>', main)


def test_the_auditors_page_points_to_the_downloadable_verifier(auditor_client, lang):
    html = auditor_client.get(f"/{lang}/audit/").content.decode()
    assert "manage.py verify_export" not in html
    assert re.search(r'<a href="/static/verify/verify_referendum\.py" download>', html)
    assert '<code dir="ltr"><bdi>python3 verify_referendum.py ballots.csv result.json</bdi></code>' in html
    assert t(lang, "Download both from the referendum's results page (“For auditors”), then run:") in html
