"""Sign-up as people see it: in Arabic on a phone, in English on a desktop. One name for sign-up, errors in
the page's language, the "check your e-mail" page in correct Arabic, and an e-mail that greets by name."""

import re

import pytest

from tests.accounts.test_wording import LATIN_SENTENCE
from tests.e2e.conftest import LOCALES
from tests.e2e.ui import VIEWPORT, expect
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SIGN_UP = {"ar": "إنشاء حساب", "en": "Create account"}
TOO_SHORT = {
    "ar": "كلمة المرور هذه قصيرة جدًا: يجب أن تتكون من 10 أحرف على الأقل.",
    "en": "This password is too short. It must contain at least 10 characters.",
}
CHECK_EMAIL = {
    "ar": "ويُرجى التواصل معنا إن لم تصلك الرسالة في غضون دقائق.",
    "en": "Please contact us if it has not arrived within a few minutes.",
}
GREETING = {"ar": "مرحبًا Layla Haddad،", "en": "Hello Layla Haddad,"}


@pytest.fixture
def device_page(browser, live_server, lang):
    """Arabic on a phone (390 × 844, touch), English on a desktop."""
    phone = lang == "ar"
    context = browser.new_context(
        base_url=live_server.url,
        locale=LOCALES[lang],
        viewport=PHONE if phone else VIEWPORT,
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def fill(form, password):
    form.locator("input[name=full_name]").fill("Layla Haddad")
    form.locator("input[name=email]").fill("layla.wording@example.qa")
    form.locator("input[name=segment][value=visitor]").check()
    form.locator("input[name=identity_number]").fill("K1234567")
    form.locator("input[name=password1]").fill(password)
    form.locator("input[name=password2]").fill(password)


def test_sign_up_reads_in_one_language_with_one_name(lang, device_page, mailoutbox):
    page = device_page
    page.goto(f"/{lang}/accounts/signup/")
    name = SIGN_UP[lang]
    expect(page).to_have_title(re.compile(rf"^\s*{name}\s*\|"))
    expect(page.locator("main h1")).to_have_text(name)
    form = page.locator("main form").filter(has=page.locator("input[name=password1]"))
    submit = form.locator("[type=submit]")
    expect(submit).to_have_text(name)

    fill(form, "Ab3-xyz")
    submit.click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text(TOO_SHORT[lang])
    if lang == "ar":
        assert LATIN_SENTENCE.findall(summary.inner_text()) == []
        assert LATIN_SENTENCE.findall(page.locator("main").inner_text()) == []

    fill(form, PASSWORD)
    submit.click()
    expect(page).to_have_url(re.compile(rf"/{lang}/accounts/confirm-email/$"))
    expect(page.locator("main")).to_contain_text(CHECK_EMAIL[lang])
    main = page.locator("main").inner_text()
    for wrong in ("لم ترى", "لم تتلقى", "غضو دقائق", "الاشتراك", "التسجيل"):
        assert wrong not in main

    assert len(mailoutbox) == 1
    assert mailoutbox[0].body.startswith(GREETING[lang])
