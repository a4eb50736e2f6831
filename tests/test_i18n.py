"""Arabic first, English second: redirects, direction, language switch, audience picker, catalogue."""

import gettext
import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from participation.audience import AUDIENCE_LABELS, SESSION_KEY

pytestmark = pytest.mark.django_db

DIR = {"ar": "rtl", "en": "ltr"}
LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"


def t(lang, message):
    with translation.override(lang):
        return str(translation.gettext(message))


def html_tag(response):
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


def visible_text(markup):
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?s)<!--.*?-->", " ", markup)
    text = html_lib.unescape(re.sub(r"(?s)<[^>]+>", " ", markup))
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------------------
# Language prefix and direction
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "target"),
    [("ar", "/ar/"), ("ar-QA,ar;q=0.9,en;q=0.8", "/ar/"), ("en", "/en/"), ("en-GB,en;q=0.9", "/en/"), ("fr", "/ar/")],
)
def test_root_redirects_by_accept_language(client, accept, target):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response["Location"] == target


def test_root_without_accept_language_is_arabic(client):
    response = client.get("/")
    assert response["Location"] == "/ar/"


@pytest.mark.parametrize("path", ["/{lang}/", "/{lang}/about/", "/{lang}/policy/", "/{lang}/participate/"])
def test_pages_have_the_right_lang_and_dir(client, lang, path):
    response = client.get(path.format(lang=lang))
    assert response.status_code == 200
    tag = html_tag(response)
    assert f'lang="{lang}"' in tag
    assert f'dir="{DIR[lang]}"' in tag


def test_error_page_is_in_the_pages_language(client, lang):
    response = client.get(f"/{lang}/no-such-page/")
    assert response.status_code == 404
    assert f'dir="{DIR[lang]}"' in html_tag(response)
    assert t(lang, "Page not found") in response.content.decode()


OTHER = {"ar": "en", "en": "ar"}


@pytest.mark.parametrize("page", ["about/", "policy/", "", "accounts/login/"])
def test_language_switch_points_to_the_same_page_in_the_other_language(client, lang, page):
    response = client.get(f"/{lang}/{page}")
    links = re.findall(r'<a class="nav-link language-switch" href="([^"]+)" lang="([a-z]+)"', response.content.decode())
    assert links == [(f"/{OTHER[lang]}/{page}", OTHER[lang])]


def test_language_switch_keeps_the_query(client, lang):
    response = client.get(f"/{lang}/participate/?tab=closed")
    html = response.content.decode()
    assert f'href="/{OTHER[lang]}/participate/?tab=closed"' in html


def test_language_switch_names_the_other_language_in_itself(client):
    ar_page = client.get("/ar/about/").content.decode()
    en_page = client.get("/en/about/").content.decode()
    assert re.search(r'language-switch"[^>]*>English<', ar_page)
    assert re.search(r'language-switch"[^>]*>العربيّة<', en_page)


# ---------------------------------------------------------------------------
# Audience picker
# ---------------------------------------------------------------------------


def picker_links(response):
    return re.findall(r'href="(/(?:ar|en)/audience/\?segment=[a-z_]+&amp;persona=[a-z_]+)"', response.content.decode())


def test_home_picker_shows_three_groups_and_eight_personas(client, lang):
    response = client.get(f"/{lang}/")
    groups = response.context["picker_groups"]
    assert [g["segment"].value for g in groups] == ["visitor", "citizen", "resident"]
    assert sum(len(g["audiences"]) for g in groups) == 8
    links = picker_links(response)
    assert len(links) == 8
    assert all(link.startswith(f"/{lang}/audience/") for link in links)
    html = response.content.decode()
    with translation.override(lang):
        labels = [str(label) for label in AUDIENCE_LABELS.values()]
    for label in labels:
        assert label in html


def test_home_picker_is_in_arabic_on_arabic_pages(client):
    html = client.get("/ar/").content.decode()
    assert "طالب زائر" in html
    assert "Visiting student" not in html
    for label in ("Visiting student", "Citizen parent", "Resident employee"):
        assert label not in html


def test_home_picker_is_in_english_on_english_pages(client):
    html = client.get("/en/").content.decode()
    for label in ("Visiting student", "Visiting tourist", "Citizen business owner", "Resident parent"):
        assert label in html


def test_picking_an_audience_is_remembered_and_named_on_home(client, lang):
    response = client.get(f"/{lang}/audience/?segment=citizen&persona=parent")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{lang}/participate/?")
    assert "segment=citizen" in response["Location"] and "persona=parent" in response["Location"]
    assert client.session[SESSION_KEY] == {"segment": "citizen", "persona": "parent"}

    home = client.get(f"/{lang}/")
    assert home.context["chosen_audience"].label == AUDIENCE_LABELS[("citizen", "parent")]
    html = home.content.decode()
    with translation.override(lang):
        expected = translation.gettext("Open for: %(audience)s") % {"audience": translation.gettext("Citizen parent")}
    assert expected in html
    assert re.search(r'persona=parent"\s+aria-current="true"', html)


def test_picking_a_segment_alone_is_allowed(client, lang):
    response = client.get(f"/{lang}/audience/?segment=visitor")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == {"segment": "visitor"}


@pytest.mark.parametrize(
    "query",
    [
        "segment=visitor&persona=parent",
        "segment=resident&persona=business_owner",
        "segment=citizen&persona=student",
        "segment=martian&persona=parent",
        "segment=martian",
        "persona=parent",
        "segment=citizen&persona=astronaut",
        "",
    ],
)
def test_invalid_audience_is_refused(client, lang, query):
    response = client.get(f"/{lang}/audience/?{query}")
    assert response.status_code == 400
    assert t(lang, "Choose one of the groups shown on the home page.") in response.content.decode()
    assert SESSION_KEY not in client.session or client.session[SESSION_KEY] is None


def test_invalid_audience_keeps_the_earlier_choice(client, lang):
    client.get(f"/{lang}/audience/?segment=citizen&persona=parent")
    client.get(f"/{lang}/audience/?segment=visitor&persona=parent")
    assert client.session[SESSION_KEY] == {"segment": "citizen", "persona": "parent"}


def test_clearing_the_audience(client, lang):
    client.get(f"/{lang}/audience/?segment=resident&persona=employee")
    response = client.get(f"/{lang}/audience/?clear=1")
    assert response.status_code == 302
    assert response["Location"] == f"/{lang}/"
    assert client.session[SESSION_KEY] is None
    home = client.get(f"/{lang}/")
    assert home.context["chosen_audience"] is None
    assert t(lang, "Open for everyone") in home.content.decode()


def test_participate_tabs_are_in_the_pages_language(client):
    """Tab labels are translated per request, not once when the module is imported."""
    en = visible_text(client.get("/en/participate/").content.decode())
    ar = visible_text(client.get("/ar/participate/").content.decode())
    for label in ("Open now", "Upcoming", "Closed"):
        assert label in en
        assert t("ar", label) in ar


# ---------------------------------------------------------------------------
# No English left on Arabic pages
# ---------------------------------------------------------------------------

ENGLISH_UI = ["Sign in", "Home", "Is this easy to understand?", "Create account", "Skip to main content"]


@pytest.mark.parametrize("path", ["/ar/", "/ar/about/", "/ar/policy/"])
def test_arabic_pages_show_no_english_interface_text(client, path):
    text = visible_text(client.get(path).content.decode())
    leftovers = [s for s in ENGLISH_UI if re.search(rf"(?<![A-Za-z]){re.escape(s)}(?![A-Za-z])", text)]
    assert leftovers == [], f"English text on {path}: {leftovers}"


@pytest.mark.parametrize("path", ["/en/", "/en/about/"])
def test_english_pages_show_the_english_interface_text(client, path):
    text = visible_text(client.get(path).content.decode())
    for s in ENGLISH_UI:
        assert s in text


# ---------------------------------------------------------------------------
# The Arabic catalogue
# ---------------------------------------------------------------------------


PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(token):
    token = token.strip()
    assert token.startswith('"') and token.endswith('"'), token
    return re.sub(r"\\(.)", lambda m: PO_ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


def parse_po(path):
    """A tiny .po reader: entries {"msgctxt"?, "msgid", "msgid_plural"?, "msgstr": {index: text}, "flags"}."""
    entries, entry, field = [], None, None

    def flush():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith('"'):
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field[0]] += _unquote(line)
            continue
        if not line or line.startswith("#"):
            ends_entry = not line or line.startswith(("#,", "#~"))
            if ends_entry and entry is not None and "msgid" in entry:
                flush()
                entry = None
            if line.startswith("#,"):
                entry = entry or {"flags": set(), "msgstr": {}}
                entry["flags"].update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and entry is not None and "msgid" in entry:
            flush()
            entry = None
        entry = entry or {"flags": set(), "msgstr": {}}
        if keyword.startswith("msgstr"):
            index = int(keyword[len("msgstr[") : -1]) if keyword.startswith("msgstr[") else 0
            entry["msgstr"][index] = _unquote(rest)
            field = ("msgstr", index)
        else:
            entry[keyword] = _unquote(rest)
            field = (keyword,)
    flush()
    return entries


@pytest.fixture(scope="module")
def po_all():
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run `make messages` and translate"
    return parse_po(PO_FILE)


@pytest.fixture(scope="module")
def po_entries(po_all):
    return [e for e in po_all if e["msgid"] != ""]


def test_catalogue_header_is_arabic_with_six_plural_forms(po_all):
    header = next(e for e in po_all if e["msgid"] == "")
    text = header["msgstr"][0]
    assert "fuzzy" not in header["flags"], "a fuzzy header is left out by msgfmt, and the plural rule with it"
    assert re.search(r"^Language: ar$", text, re.MULTILINE)
    assert "nplurals=6;" in text
    assert "charset=UTF-8" in text


def test_the_po_parser_reads_plurals_contexts_and_flags(tmp_path):
    sample = tmp_path / "sample.po"
    sample.write_text(
        '# header\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-format\nmsgid "Hello %(name)s"\nmsgstr "مرحبا %(name)s"\n\n'
        'msgctxt "month"\nmsgid "May"\nmsgstr "مايو"\n\n'
        '#, fuzzy\nmsgid "Long "\n"text \\"quoted\\"\\n"\nmsgstr ""\n"نص "\n"طويل"\n\n'
        'msgid "one item"\nmsgid_plural "%d items"\nmsgstr[0] "لا عناصر"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    entries = {e["msgid"]: e for e in parse_po(sample)}
    assert entries["Hello %(name)s"]["msgstr"] == {0: "مرحبا %(name)s"}
    assert entries["Hello %(name)s"]["flags"] == {"python-format"}
    assert entries["May"]["msgctxt"] == "month"
    assert entries['Long text "quoted"\n']["msgstr"] == {0: "نص طويل"}
    assert "fuzzy" in entries['Long text "quoted"\n']["flags"]
    assert entries[""]["msgstr"][0].startswith("Content-Type")  # the header, an entry with an empty msgid
    assert len(entries) == 5
    assert entries["one item"]["msgid_plural"] == "%d items"
    assert entries["one item"]["msgstr"] == {0: "لا عناصر", 1: ""}


def test_every_message_is_translated(po_entries):
    empty = [e["msgid"] for e in po_entries if not e["msgstr"] or any(not s for s in e["msgstr"].values())]
    assert empty == [], f"{len(empty)} untranslated messages, e.g. {empty[:5]}"


def test_no_message_is_fuzzy(po_entries):
    fuzzy = [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]]
    assert fuzzy == [], f"{len(fuzzy)} fuzzy messages, e.g. {fuzzy[:5]}"


def test_arabic_plurals_have_six_forms(po_entries):
    plurals = [e for e in po_entries if "msgid_plural" in e]
    wrong = [e["msgid"] for e in plurals if sorted(e["msgstr"]) != [0, 1, 2, 3, 4, 5]]
    assert wrong == []


def test_named_placeholders_are_kept(po_entries):
    """A translation that drops or renames %(name)s breaks the page at run time."""
    named = re.compile(r"%\((\w+)\)[sd]")
    broken = []
    for e in po_entries:
        wanted = set(named.findall(e["msgid"])) | set(named.findall(e.get("msgid_plural", "")))
        for text in filter(None, e["msgstr"].values()):
            found = set(named.findall(text))
            # Plural forms may leave out the number ("one item"); singular messages keep every name.
            if found - wanted or ("msgid_plural" not in e and found != wanted):
                broken.append(e["msgid"])
    assert broken == []


def stale_messages(entries, mo_path):
    """The msgids whose translation in the compiled .mo differs from the .po."""
    with mo_path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for e in entries:
        if "fuzzy" in e["flags"] or e["msgid"] == "":
            continue
        msgid = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            if any(catalog.get((msgid, index)) != text for index, text in e["msgstr"].items()):
                stale.append(e["msgid"])
        elif catalog.get(msgid) != e["msgstr"][0]:
            stale.append(e["msgid"])
    return stale


def test_compiled_mo_matches_the_po(po_entries):
    assert MO_FILE.exists(), f"{MO_FILE} is missing: run `make messages` (compilemessages)"
    stale = stale_messages(po_entries, MO_FILE)
    assert stale == [], f"django.mo is out of date for {len(stale)} messages, e.g. {stale[:5]}: run compilemessages"


def test_stale_mo_is_detected(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if not msgfmt:
        pytest.skip("needs msgfmt (GNU gettext) to compile a sample catalogue")
    header = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=n != 1;\\n"\n\n'
    )
    po = tmp_path / "django.po"
    mo = tmp_path / "django.mo"
    po.write_text(
        header + 'msgid "Yes"\nmsgstr "نعم"\n\nmsgctxt "answer"\nmsgid "No"\nmsgstr "لا"\n\n'
        'msgid "%(n)d page"\nmsgid_plural "%(n)d pages"\nmsgstr[0] "صفحة"\nmsgstr[1] "صفحات"\n',
        encoding="utf-8",
    )
    subprocess.run([msgfmt, "-o", str(mo), str(po)], check=True)  # noqa: S603 (our own temp files)
    assert stale_messages(parse_po(po), mo) == []

    po.write_text(
        header + 'msgid "Yes"\nmsgstr "أجل"\n\nmsgctxt "answer"\nmsgid "No"\nmsgstr "لا"\n\n'
        'msgid "%(n)d page"\nmsgid_plural "%(n)d pages"\nmsgstr[0] "صفحة"\nmsgstr[1] "عدة صفحات"\n\n'
        'msgid "New"\nmsgstr "جديد"\n',
        encoding="utf-8",
    )
    assert stale_messages(parse_po(po), mo) == ["Yes", "%(n)d page", "New"]
