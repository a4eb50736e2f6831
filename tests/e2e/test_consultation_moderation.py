"""Scenario 4: a comment on a consultation goes through moderation and appears once approved."""

import re

import pytest

from participation.models import AuditEntry, Comment
from tests.builders import scenarios, users
from tests.e2e.ui import admin_sign_in, expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMENT = {
    "ar": "أقترح إضافة ممرات آمنة للمشاة قرب المدارس في القسم الأول.",
    "en": "Please add safe pedestrian crossings near schools to the first section.",
}


def test_comment_is_moderated_before_it_appears(lang, page, new_context, a11y, t):
    consultation = scenarios.open_consultation()
    section = consultation.sections.get(number=1)
    commenter = users.person(full_name="Noora Al-Marri")
    moderator = users.make_staff(users.MODERATORS, consultation.entity)
    url = f"/{lang}/consultations/{consultation.slug}/"
    text = COMMENT[lang]

    # The citizen comments on a section of the draft.
    sign_in(page, lang, commenter, next_path=url)
    expect(page).to_have_url(re.compile(rf"{url}$"))
    a11y.check(page, "consultation")
    form = page.locator("form").filter(has=page.locator("textarea[name=body]"))
    form.get_by_label(t("About")).select_option(str(section.pk))
    form.get_by_label(t("Your comment")).fill(text)
    form.get_by_role("button", name=t("Send comment")).click()
    expect(page).to_have_url(re.compile(rf"{url}#comments$"))
    expect(page.locator(".messages")).to_contain_text(
        t("Thank you. Your comment will appear once a moderator has approved it.")
    )
    expect(page.locator("#comments [role=status]").filter(has_text=re.compile(r"\S"))).to_be_visible()
    expect(page.get_by_text(text)).to_have_count(0)
    a11y.check(page, "consultation (comment sent)")
    comment = Comment.objects.get(item=consultation, author=commenter)
    assert (comment.status, comment.section) == (Comment.Status.PENDING, section)

    # Nobody else sees it yet.
    reader = new_context(lang).new_page()
    reader.goto(url)
    expect(reader.locator("main h1")).to_be_visible()
    expect(reader.get_by_text(text)).to_have_count(0)

    # A moderator approves it in the admin.
    admin = new_context(lang).new_page()
    admin_sign_in(admin, moderator)
    admin.goto("/admin/participation/comment/?status__exact=pending")
    a11y.check(admin, "admin comment changelist")
    admin.locator("#result_list").get_by_role("link", name=text[:20]).click()
    expect(admin).to_have_url(re.compile(rf"/admin/participation/comment/{comment.pk}/change/"))
    a11y.check(admin, "admin comment change")
    admin.locator("input[name=status][value=published]").check()
    admin.locator("input[name=_save]").click()
    expect(admin.locator(".messagelist .success")).to_be_visible()
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by) == (Comment.Status.PUBLISHED, moderator)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.MODERATE, object_id=str(comment.pk)).exists()

    # Now it appears under its section, for the reader and for its author, once.
    reader.reload()
    article = reader.locator(f"#section-{section.number}")
    expect(article.get_by_text(text)).to_have_count(1)
    expect(article).to_contain_text(commenter.full_name)
    expect(reader.locator("#comments").get_by_text(text)).to_have_count(0)  # not among the general comments
    a11y.check(reader, "consultation (comment published)")
    page.goto(url)
    expect(page.get_by_text(text)).to_have_count(1)
    expect(page.locator("#comments [role=status]")).to_have_count(0)  # nothing waits for moderation any more
    a11y.assert_clean()
