"""Checks on what a person sees and does: keyboard focus, announced errors, right-to-left layout."""

import re
from pathlib import Path

from django.utils import timezone

from tests.factories import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every test here, saying what to install
    expect = None


VIEWPORT = {"width": 1280, "height": 900}

ACTIVE_ELEMENT = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id || "", name: el.getAttribute("name") || "", type: el.getAttribute("type") || "",
    value: el.getAttribute("value") || "", text: (el.innerText || "").trim().slice(0, 60),
    focusVisible: el.matches(":focus-visible"),
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
  };
}"""


def active(page):
    return page.evaluate(ACTIVE_ELEMENT)


def assert_focus_visible(focused):
    """Keyboard focus must show: an outline of at least 2px (the portal draws 3px) or a focus ring shadow."""
    shows = (focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 2) or focused["boxShadow"] not in (
        "",
        "none",
    )
    assert focused["focusVisible"] and shows, f"keyboard focus is not visible on {focused}"


def tab_until(page, matches, *, limit=80, check_focus=True):
    """Press Tab until the focused element matches; every stop on the way must show its focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = active(page)
        seen.append(focused)
        if check_focus and focused["tag"] != "body":
            assert_focus_visible(focused)
        if matches(focused):
            return focused
    raise AssertionError(
        f"Tab never reached the element; focus went through: {[(f['tag'], f['id'], f['text']) for f in seen]}"
    )


def assert_mirrored(page, lang):
    """Arabic pages are right to left and mirrored: the brand sits on the right, headings start on the right."""
    direction = "rtl" if lang == "ar" else "ltr"
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{lang}"))
    stylesheet = "bootstrap.rtl.min.css" if lang == "ar" else "bootstrap.min.css"
    expect(page.locator(f'link[rel=stylesheet][href$="{stylesheet}"]')).to_have_count(1)
    brand = page.locator(".navbar-brand").bounding_box()
    heading = page.locator("main h1").first.bounding_box()
    middle = VIEWPORT["width"] / 2
    text_edge = page.locator("main h1").first.evaluate(
        """h => { const r = document.createRange(); r.selectNodeContents(h); const b = r.getBoundingClientRect();
                 return {left: b.left, right: b.right}; }"""
    )
    if lang == "ar":
        assert brand["x"] > middle, f"in Arabic the brand should be on the right, it is at x={brand['x']}"
        assert text_edge["right"] > heading["x"] + heading["width"] - 2, (
            "in Arabic the heading text should start on the right"
        )
    else:
        assert brand["x"] + brand["width"] < middle, (
            f"in English the brand should be on the left, it is at x={brand['x']}"
        )
        assert text_edge["left"] < heading["x"] + 2, "in English the heading text should start on the left"


def described_by_text(locator):
    """The text of the elements an element's aria-describedby points to."""
    return locator.evaluate(
        """el => (el.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)
                 .map(id => document.getElementById(id)).filter(Boolean).map(n => n.textContent.trim()).join(" | ")"""
    )


# Browser steps shared by the scenarios


def sign_in(page, lang, user, password=PASSWORD, next_path=None):
    """Sign in through allauth's form, as a person would."""
    url = f"/{lang}/accounts/login/"
    if next_path:
        url += f"?next={next_path}"
    page.goto(url)
    form = page.locator("main form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=login]").fill(user.email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"signing in {user.email} failed: {page.url}"


def admin_sign_in(page, user, password=PASSWORD):
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(password)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


def local(moment):
    """A moment as the admin's split date and time fields show it, in local time."""
    value = timezone.localtime(moment)
    return value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")


def keep_receipt(page, t):
    """The answer to a referendum vote: counted, with the receipt to copy, print or download; its code."""
    expect(page.get_by_role("status").first).to_contain_text(t("Your vote has been counted"))
    receipt = page.locator(".receipt-code").inner_text().strip()
    expect(page.get_by_role("button", name=t("Copy the code"))).to_be_visible()
    expect(page.get_by_role("button", name=t("Print"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=t("Download the code")).click()
    assert receipt in Path(download.value.path()).read_text(encoding="utf-8")
    return receipt
