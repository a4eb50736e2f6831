"""Number agreement in Arabic: every plural message of the catalogue, rendered for 0, 1, 2, 3, 11 and 100.

Arabic has six plural forms: zero, one, two, 3–10 (plural noun), 11–99 (singular accusative noun) and
100+ (singular genitive noun). "0 موضوع", "1 أسبوع" and "2 أسبوعين" were on every card (issue 12): one and
two are said with the noun alone ("موضوع واحد", "موضوعين"), and zero in words ("لم يُعثر على أي موضوع").
"""

import re
from collections import defaultdict

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.test_i18n import PO_FILE, parse_po

COUNTS = (0, 1, 2, 3, 11, 100)
PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;"
)
# The placeholder that carries the number: blocktranslate's counter, or the name a Python ngettext gives it.
COUNT_NAMES = ("count", "counter", "seconds", "min_length")
NAMED = re.compile(r"%\((\w+)\)[sd]")


def arabic_form(n):
    """The CLDR/gettext Arabic rule, written out independently of the catalogue's header."""
    if n == 0:
        return 0
    if n == 1:
        return 1
    if n == 2:
        return 2
    if 3 <= n % 100 <= 10:
        return 3
    if n % 100 >= 11:
        return 4
    return 5


def plural_entries():
    return [e for e in parse_po(PO_FILE) if "msgid_plural" in e]


def entry_id(entry):
    return entry["msgid"][:50]


def count_placeholder(entry):
    """"%(count)d"-style name of the number, or None for a positional "%d".

    Django formats MinimumLengthValidator's message with a positional %d, so every form must keep the
    number; its zero, one and two forms say "no fewer than %d letters", which needs no agreement.
    """
    names = [name for name in NAMED.findall(entry["msgid_plural"]) if name in COUNT_NAMES]
    if names:
        return names[0]
    assert "%d" in entry["msgid_plural"], f"no number placeholder found in {entry['msgid_plural']!r}"
    return None


def ngettext_ar(entry, n):
    with translation.override("ar"):
        if "msgctxt" in entry:
            return translation.npgettext(entry["msgctxt"], entry["msgid"], entry["msgid_plural"], n)
        return translation.ngettext(entry["msgid"], entry["msgid_plural"], n)


def fill(text, name, n):
    """Format a message as the code does: the number where it belongs, a word for any other placeholder."""
    if name is None:
        return text % n
    values = defaultdict(lambda: "س")
    values[name] = n
    return text % values


def test_the_catalogue_header_has_the_full_arabic_rule():
    header = parse_po(PO_FILE)[0]
    assert header["msgid"] == ""
    assert f"Plural-Forms: {PLURAL_FORMS}\n" in header["msgstr"][0]


def test_the_runtime_picks_the_form_the_rule_gives():
    """The compiled catalogue's rule, as Django applies it, agrees with arabic_form on 0..1000."""
    probe = next(e for e in plural_entries() if e["msgid"] == "%(count)d day")
    wrong = [n for n in range(1001) if ngettext_ar(probe, n) != probe["msgstr"][arabic_form(n)]]
    assert wrong == []


def test_there_are_plural_messages_to_check():
    assert len(plural_entries()) >= 20


def says_a_number(entry):
    """False for Django's own plurals that name no number ("Please correct the errors below.")."""
    return "%d" in entry["msgid_plural"] or any(n in COUNT_NAMES for n in NAMED.findall(entry["msgid_plural"]))


@pytest.mark.parametrize("entry", [e for e in plural_entries() if not says_a_number(e)], ids=entry_id)
def test_plural_messages_without_a_number_still_say_one_two_and_many(entry):
    assert sorted(entry["msgstr"]) == [0, 1, 2, 3, 4, 5], "Arabic needs all six forms"
    assert all(text.strip() for text in entry["msgstr"].values()), "a form is empty"
    # "the error", "the two errors", "the errors": the singular, the dual and the plural differ.
    assert len({entry["msgstr"][1], entry["msgstr"][2], entry["msgstr"][3]}) == 3


@pytest.mark.parametrize("entry", [e for e in plural_entries() if says_a_number(e)], ids=entry_id)
def test_every_plural_message_agrees_with_its_number(entry):
    assert sorted(entry["msgstr"]) == [0, 1, 2, 3, 4, 5], "Arabic needs all six forms"
    assert all(text.strip() for text in entry["msgstr"].values()), "a form is empty"
    name = count_placeholder(entry)
    number = f"%({name})" if name else "%d"
    for n in COUNTS:
        form = arabic_form(n)
        chosen = ngettext_ar(entry, n)
        assert chosen == entry["msgstr"][form], f"n={n}: Django chose another form than {form}"
        rendered = fill(chosen, name, n)
        if form >= 3:
            assert str(n) in rendered, f"n={n}: the number is missing from {rendered!r}"
        elif name is not None:
            # Zero, one and two are said in words: "لم يُعثر على أي موضوع", "موضوع واحد", "موضوعين".
            assert number not in chosen, f"n={n}: {rendered!r} writes the digit where Arabic uses words"
    # The noun changes between 3–10 and 100+ ("موضوعات" / "موضوع"): one form copied into all six is caught.
    assert entry["msgstr"][3] != entry["msgstr"][5]
    if name is not None:
        assert len({entry["msgstr"][1], entry["msgstr"][2], entry["msgstr"][5]}) == 3


def template_source(msgid):
    return re.sub(r"%\((\w+)\)s", r"{{ \1 }}", msgid).replace("%%", "%")


@pytest.mark.parametrize(
    "entry", [e for e in plural_entries() if "%(counter)s" in e["msgid_plural"]], ids=entry_id
)
def test_template_plurals_render_the_right_form(entry):
    """{% blocktranslate count %} in a template picks the same form as the catalogue says."""
    source = (
        "{% load i18n %}{% blocktranslate count counter=n %}" + template_source(entry["msgid"]) + "{% plural %}"
        + template_source(entry["msgid_plural"]) + "{% endblocktranslate %}"
    )
    template = Template(source)
    for n in COUNTS:
        with translation.override("ar"):
            rendered = template.render(Context({"n": n}))
        assert rendered == fill(entry["msgstr"][arabic_form(n)], "counter", n)


@pytest.mark.parametrize(
    ("message", "n", "expected"),
    [
        (("%(counter)s item found", "%(counter)s items found"), 0, "لم يُعثر على أي موضوع"),
        (("%(counter)s item found", "%(counter)s items found"), 2, "تم العثور على موضوعين"),
        (("%(counter)s item found", "%(counter)s items found"), 11, "تم العثور على 11 موضوعًا"),
        (("%(counter)s ballot counted", "%(counter)s ballots counted"), 0, "لم تُحتسب أي بطاقة اقتراع"),
        (("%(counter)s ballot counted", "%(counter)s ballots counted"), 1, "بطاقة اقتراع واحدة محتسبة"),
        (("%(counter)s ballot counted", "%(counter)s ballots counted"), 100, "100 بطاقة اقتراع محتسبة"),
        (("%(count)d week", "%(count)d weeks"), 1, "أسبوع واحد"),
        (("%(count)d day", "%(count)d days"), 4, "4 أيام"),
    ],
)
def test_the_examples_from_the_issue_read_right(message, n, expected):
    with translation.override("ar"):
        text = translation.ngettext(*message, n)
    name = "counter" if "%(counter)s" in message[0] else "count"
    assert text % {name: n} == expected


# ---------------------------------------------------------------------------
# Every count in the code goes through the catalogue's plural forms
# ---------------------------------------------------------------------------

ROOT = PO_FILE.parents[3]
SOURCE_DIRS = ("accounts", "participation", "hukoomi_portal", "templates")
NGETTEXT_NAMES = {"ngettext", "ngettext_lazy", "npgettext", "npgettext_lazy"}
BLOCK_COUNT = re.compile(
    r"{%\s*blocktrans(?:late)?\b(?P<args>[^%]*\bcount\b[^%]*)%}(?P<singular>.*?){%\s*plural\s*%}(?P<plural>.*?)"
    r"{%\s*endblocktrans(?:late)?\s*%}",
    re.DOTALL,
)


def python_plurals():
    """(context, singular, plural, where) of every ngettext call with literal strings in our Python code."""
    import ast

    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in NGETTEXT_NAMES:
                    continue
                args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
                if name.startswith("np"):
                    context, singular, plural = args[:3]
                else:
                    context, (singular, plural) = None, args[:2]
                assert singular and plural, f"{path}:{node.lineno}: ngettext with a message that is not a literal"
                found.append((context, singular, plural, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


def as_msgid(template_text):
    return re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", template_text.replace("%", "%%"))


def template_plurals():
    found = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix not in (".html", ".txt"):
            continue
        for match in BLOCK_COUNT.finditer(path.read_text(encoding="utf-8")):
            singular, plural = match.group("singular"), match.group("plural")
            if "trimmed" in match.group("args"):
                singular, plural = (" ".join(part.split()) for part in (singular, plural))
            context = re.search(r'\bcontext\s+"([^"]+)"', match.group("args"))
            where = f"{path.relative_to(ROOT)}"
            found.append((context.group(1) if context else None, as_msgid(singular), as_msgid(plural), where))
    return found


def test_every_count_in_the_code_has_six_arabic_forms():
    catalogue = {(e.get("msgctxt"), e["msgid"], e["msgid_plural"]) for e in plural_entries()}
    counts = python_plurals() + template_plurals()
    assert len(counts) >= 15, "the scan should find the portal's counts"
    missing = [where for context, singular, plural, where in counts if (context, singular, plural) not in catalogue]
    assert missing == [], f"counts without an Arabic plural entry in locale/ar: {missing}"


def test_the_scan_reads_template_counts():
    [(context, singular, plural, _where)] = [
        c for c in template_plurals() if c[3].endswith("receipts.html") and "receipt" in c[1]
    ]
    assert (context, singular, plural) == (None, "%(counter)s receipt", "%(counter)s receipts")


def test_no_template_uses_timeuntil_or_timesince():
    """Django's timeuntil/timesince write "1 أسبوع، 4 أيام"; cards use |timeleft (docs/languages.md)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if re.search(r"\|\s*time(until|since)\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
