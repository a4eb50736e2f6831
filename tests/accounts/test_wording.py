"""The words people read on the way in: no English on Arabic pages, one name for sign-up, allauth's Arabic
corrected, e-mails that address the person by name and are signed by the portal (issue 12)."""

import re
from pathlib import Path

import pytest

from tests.factories import PASSWORD, VerifiedUserFactory
from tests.test_i18n import PO_FILE, parse_po, stale_messages, visible_text

from .test_views import link_in, signup_data

pytestmark = pytest.mark.django_db

# Three Latin words in a row is an English sentence (or the start of one). Single Latin tokens are allowed:
# the "English" language switch, an e-mail address someone typed, a passport number.
LATIN_SENTENCE = re.compile(r"[A-Za-z][A-Za-z’']+(?:[ ,]+[A-Za-z][A-Za-z’']*){2,}")
# Invisible direction marks that allauth's Arabic catalogue scatters in its sentences.
STRAY_MARKS = re.compile("[\u202a-\u202e]")

SIGN_UP = {"ar": "إنشاء حساب", "en": "Create account"}
# allauth's Arabic mistakes on these pages, and the other names sign-up had ("التسجيل", "الاشتراك").
WRONG_ARABIC = ["لم ترى", "لم تتلقى", "غضو دقائق", "الاشتراك", "التسجيل", "يلغي"]

BAD_SIGNUPS = {
    "too short": {"password1": "Ab3-xyz", "password2": "Ab3-xyz"},
    "mismatched": {"password1": "Qatar-Portal-Pass-2026!", "password2": "Qatar-Portal-Pass-2027!"},
    "numeric and common": {"password1": "1234567890", "password2": "1234567890"},
    "like the e-mail address": {"password1": "noor.ali@example.qa", "password2": "noor.ali@example.qa"},
    "everything missing": {
        "email": "not-an-address",
        "password1": "",
        "password2": "",
        "full_name": "",
        "segment": "",
        "identity_number": "",
    },
    "wrong persona and number": {"segment": "visitor", "personas": ["parent"], "identity_number": "12"},
}


def main_text(response):
    """The page's visible text from <main> (the header and footer are covered by tests/test_i18n.py)."""
    html = response.content.decode()
    main = re.search(r"(?s)<main\b.*?</main>", html)
    assert main, "no <main> on the page"
    return visible_text(main.group(0))


def english_sentences(text):
    return LATIN_SENTENCE.findall(text)


def error_texts(response):
    form = response.context["form"]
    return [str(message) for errors in form.errors.values() for message in errors]


@pytest.mark.parametrize("case", BAD_SIGNUPS, ids=str)
def test_a_bad_sign_up_in_arabic_has_its_errors_in_arabic(client, case):
    response = client.post("/ar/accounts/signup/", signup_data(**BAD_SIGNUPS[case]))
    assert response.status_code == 200
    errors = error_texts(response)
    assert errors, "the form should have refused this sign-up"
    assert [e for e in errors if english_sentences(e) or STRAY_MARKS.search(e)] == []
    assert english_sentences(main_text(response)) == []


def test_the_password_rules_read_right_in_arabic(client):
    response = client.post("/ar/accounts/signup/", signup_data(password1="Ab3-xyz", password2="Ab3-xyz"))
    assert "كلمة المرور هذه قصيرة جدًا: يجب أن تتكون من 10 أحرف على الأقل." in error_texts(response)
    mismatched = client.post("/ar/accounts/signup/", signup_data(password2="Qatar-Portal-Pass-2027!"))
    assert "يجب أن تكتب كلمة المرور نفسها في الحقلين." in error_texts(mismatched)
    text = main_text(response)
    assert "يجب أن تتكون كلمة المرور من 10 أحرف على الأقل." in text  # the help text under the field
    similar = client.post(
        "/ar/accounts/signup/", signup_data(password1="noor.ali@example.qa", password2="noor.ali@example.qa")
    )
    assert "كلمة المرور قريبة جدًا من البريد الإلكتروني." in error_texts(similar)


def assert_reads_as_arabic(response):
    """The page answers, with no English sentence, none of allauth's wrong Arabic and no stray marks."""
    assert response.status_code == 200
    text = main_text(response)
    assert english_sentences(text) == []
    assert [w for w in WRONG_ARABIC if w in text] == []
    assert not STRAY_MARKS.search(response.content.decode())


@pytest.mark.parametrize(
    "path",
    [
        "/ar/accounts/signup/",
        "/ar/accounts/login/",
        "/ar/accounts/password/reset/",
        "/ar/accounts/password/reset/done/",
        "/ar/accounts/confirm-email/",
        "/ar/accounts/confirm-email/not-a-key/",
        "/ar/accounts/password/reset/key/1-not-a-token/",
    ],
)
def test_arabic_account_pages_have_no_english_and_no_allauth_mistakes(client, path):
    assert_reads_as_arabic(client.get(path, follow=True))


@pytest.mark.parametrize(
    "path",
    [
        "/ar/accounts/password/change/",
        "/ar/accounts/email/",
        "/ar/accounts/logout/",
        "/ar/accounts/reauthenticate/",
        "/ar/profile/",
    ],
)
def test_arabic_pages_of_a_signed_in_person_have_no_english(client, path):
    client.force_login(VerifiedUserFactory())
    assert_reads_as_arabic(client.get(path, follow=True))


def test_a_bad_new_password_is_refused_in_arabic(client):
    client.force_login(VerifiedUserFactory())
    response = client.post(
        "/ar/accounts/password/change/", {"oldpassword": "wrong", "password1": "1234567", "password2": "12345678"}
    )
    errors = error_texts(response)
    assert "كلمة المرور هذه قصيرة جدًا: يجب أن تتكون من 10 أحرف على الأقل." in errors
    assert [e for e in errors if english_sentences(e)] == []


def test_a_failed_log_in_and_a_reset_for_an_unknown_address_are_in_arabic(client):
    VerifiedUserFactory(email="noor@example.qa")
    login = client.post("/ar/accounts/login/", {"login": "noor@example.qa", "password": "wrong-password"})
    assert "البريد الإلكتروني أو كلمة المرور غير صحيحين." in main_text(login)
    reset = client.post("/ar/accounts/password/reset/", {"email": "nobody@example.qa"}, follow=True)
    for response in (login, reset):
        assert english_sentences(main_text(response)) == []


def test_check_your_email_page_reads_right(client):
    text = main_text(client.get("/ar/accounts/confirm-email/"))
    assert "وإن لم ترَ الرسالة في صندوق الوارد" in text
    assert "إن لم تصلك الرسالة في غضون دقائق" in text


# ---------------------------------------------------------------------------
# One name for sign-up
# ---------------------------------------------------------------------------

EN_PO = PO_FILE.parents[2] / "en" / "LC_MESSAGES" / "django.po"


def test_the_english_catalogue_is_complete_and_compiled():
    """locale/en only rewords other packages' English (allauth's "Sign Up"); its .mo must match it."""
    entries = [e for e in parse_po(EN_PO) if e["msgid"]]
    assert entries
    assert all(text for e in entries for text in e["msgstr"].values())
    assert stale_messages(entries, EN_PO.with_suffix(".mo")) == []


def test_sign_up_has_one_name_on_its_page(client, lang):
    html = client.get(f"/{lang}/accounts/signup/").content.decode()
    name = SIGN_UP[lang]
    assert re.search(rf"<title>\s*{name}\s*\|", html), "the tab"
    assert re.search(rf"<h1[^>]*>\s*{name}\s*</h1>", html), "the heading"
    assert re.search(rf'<button[^>]*type="submit"[^>]*>\s*{name}\s*</button>', html), "the button"
    assert re.search(rf'<a class="nav-link" href="/{lang}/accounts/signup/">{name}</a>', html), "the navigation"


def test_the_log_in_page_links_to_sign_up_by_the_same_name(client, lang):
    html = client.get(f"/{lang}/accounts/login/").content.decode()
    main = re.search(r"(?s)<main\b.*?</main>", html).group(0)
    assert re.search(rf'<a href="/{lang}/accounts/signup/[^"]*">\s*{SIGN_UP[lang]}\s*</a>', main)


@pytest.mark.parametrize("path", ["accounts/signup/", "accounts/login/", "accounts/confirm-email/"])
def test_no_other_name_for_sign_up(client, lang, path):
    text = visible_text(client.get(f"/{lang}/{path}").content.decode())
    others = {
        "ar": ["التسجيل", "الاشتراك", "تسجيل حساب"],
        "en": ["Sign Up", "Signup", "sign up", "signup", "Create an account"],
    }
    assert [word for word in others[lang] if re.search(rf"(?<![\w-]){word}(?![\w-])", text)] == []


# ---------------------------------------------------------------------------
# E-mails
# ---------------------------------------------------------------------------

GREETING = {"ar": "مرحبًا Noor Ali،", "en": "Hello Noor Ali,"}
SIGNATURE = {"ar": "حكومي - المشاركة الإلكترونية", "en": "Hukoomi e-Participation"}


def assert_portal_mail(message, lang):
    body = message.body
    assert body.startswith(GREETING[lang]), body
    assert body.rstrip().endswith(SIGNATURE[lang]), body
    # Not "Hello from 127.0.0.1:8300" nor "user noor.ali@…": the site's domain and the account's address
    # are not how a ministry speaks to a person.
    for unwanted in ("testserver", "127.0.0.1", "example.com", "المستخدم", "من موقع", "Hello from", "user "):
        assert unwanted not in body.replace("http://testserver/", ""), (unwanted, body)
    if lang == "ar":
        without_links = re.sub(r"https?://\S+", "", body)
        assert english_sentences(without_links.replace("Noor Ali", "")) == []
        assert english_sentences(message.subject) == []


def test_the_confirmation_email_greets_by_name_and_is_signed_by_the_portal(client, lang, mailoutbox):
    client.post(f"/{lang}/accounts/signup/", signup_data())
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert_portal_mail(message, lang)
    assert message.subject == {"ar": "تأكيد بريدك الإلكتروني", "en": "Confirm your e-mail address"}[lang]
    link_in(message.body, f"/{lang}/accounts/confirm-email/")


def test_the_password_reset_email_greets_by_name(client, lang, mailoutbox):
    VerifiedUserFactory(email="noor.ali@example.qa", full_name="Noor Ali", password=PASSWORD)
    client.post(f"/{lang}/accounts/password/reset/", {"email": "noor.ali@example.qa"})
    assert len(mailoutbox) == 1
    assert_portal_mail(mailoutbox[0], lang)
    link_in(mailoutbox[0].body, f"/{lang}/accounts/password/reset/key/")


def test_a_sign_up_with_a_known_address_gets_a_portal_email(client, lang, mailoutbox):
    VerifiedUserFactory(email="noor.ali@example.qa", full_name="Noor Ali")
    client.post(f"/{lang}/accounts/signup/", signup_data())
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert body.rstrip().endswith(SIGNATURE[lang])
    if lang == "ar":
        assert english_sentences(re.sub(r"https?://\S+", "", body)) == []
        assert "noor.ali@example.qa" in body


CONFIRM_PAGE = {
    "ar": "هو عنوان البريد الإلكتروني لحساب Noor Ali.",
    "en": "is the e-mail address of the account of Noor Ali.",
}
SIGNED_IN = {"ar": "تم تسجيل دخولك باسم Noor Ali.", "en": "Successfully signed in as Noor Ali."}


def test_the_confirmation_page_and_the_welcome_name_the_person(client, lang, mailoutbox):
    """allauth names people by their name (ACCOUNT_USER_DISPLAY), not "للمستخدم noor.ali@…"."""
    client.post(f"/{lang}/accounts/signup/", signup_data())
    confirm_url = link_in(mailoutbox[0].body, f"/{lang}/accounts/confirm-email/")
    text = main_text(client.get(confirm_url))
    assert CONFIRM_PAGE[lang] in text
    assert "المستخدم" not in text and "for user" not in text
    welcome = client.post(confirm_url, follow=True)
    assert SIGNED_IN[lang] in visible_text(welcome.content.decode())


# ---------------------------------------------------------------------------
# Overrides of the packages' own strings stay attached to them
# ---------------------------------------------------------------------------

OVERRIDE_MARK = re.compile(r"^# overrides (allauth|django)$", re.MULTILINE)


def package_msgids(package):
    """The msgids a package's code uses today, from its English (source) catalogues."""
    import allauth
    import django

    if package == "allauth":
        paths = [Path(allauth.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"]
    else:
        root = Path(django.__file__).parent
        paths = [root / "conf" / "locale" / "en" / "LC_MESSAGES" / "django.po"]
        paths += sorted(root.glob("contrib/*/locale/en/LC_MESSAGES/django.po"))
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for path in paths for e in parse_po(path)}


def overrides(po_path, tmp_path):
    """(package, entry) for every entry of our catalogue marked "# overrides <package>"."""
    found = []
    for index, block in enumerate(po_path.read_text(encoding="utf-8").split("\n\n")):
        mark = OVERRIDE_MARK.search(block)
        if mark:
            one = tmp_path / f"entry-{index}.po"
            one.write_text(block + "\n", encoding="utf-8")
            [entry] = parse_po(one)
            found.append((mark.group(1), entry))
    return found


@pytest.mark.parametrize("po_path", [PO_FILE, EN_PO], ids=["ar", "en"])
def test_every_override_still_matches_a_string_of_its_package(po_path, tmp_path):
    """An upgrade that rewords a msgid leaves our override unused and the page in English (Django 5 did that to
    MinimumLengthValidator's message). This fails instead, naming the override to update."""
    marked = overrides(po_path, tmp_path)
    assert len(marked) >= (40 if po_path == PO_FILE else 5)
    known = {package: package_msgids(package) for package in ("allauth", "django")}
    stale = [
        entry["msgid"][:60]
        for package, entry in marked
        if (entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural")) not in known[package]
    ]
    assert stale == []


def test_the_english_catalogue_holds_only_overrides(tmp_path):
    entries = [e for e in parse_po(EN_PO) if e["msgid"]]
    assert len(overrides(EN_PO, tmp_path)) == len(entries)


def test_a_reworded_package_string_is_caught(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        '# overrides allauth\nmsgid "Sign Up"\nmsgstr "إنشاء حساب"\n\n'
        '# overrides django\nmsgid "This password is too short. It must contain at least %(min_length)d character."\n'
        'msgid_plural "This password is too short. It must contain at least %(min_length)d characters."\n'
        'msgstr[0] "x"\nmsgstr[1] "x"\n',
        encoding="utf-8",
    )
    known = package_msgids("django")
    [(_, sign_up), (_, old_password)] = overrides(po, tmp_path)
    assert (None, "Sign Up", None) in package_msgids("allauth")
    assert (None, old_password["msgid"], old_password["msgid_plural"]) not in known
