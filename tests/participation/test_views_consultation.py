"""The consultation page in both languages: sections, the PDF, comments, agree/disagree and the outcome."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Segment
from participation.models import Comment, Item, SectionReaction, State
from participation.rules import Barrier
from participation.services import consultation as consultation_service
from participation.services import lifecycle, moderation
from tests.builders import actions
from tests.builders.items import make_consultation
from tests.builders.users import MODERATORS, make_staff
from tests.factories import SectionFactory, UserFactory, VerifiedUserFactory

from .conftest import assert_not_shown, assert_page_language, assert_shown, page, t, tn, url

pytestmark = pytest.mark.django_db

COMMENT_FORM = 'action="{}'  # the form's address ends in #error-summary, where the page opens after an error


HEADINGS = {1: ("الأهداف", "Goals"), 2: ("الإجراءات", "Measures"), 3: ("التنفيذ", "Delivery")}


@pytest.fixture
def consultation(entity):
    """Three sections, written in the order 3, 1, 2: the page must still show them by number."""
    consultation = make_consultation(sections=0, state=State.DRAFT, entity=entity)
    for number in (3, 1, 2):
        SectionFactory(item=consultation, number=number, heading_ar=HEADINGS[number][0], heading_en=HEADINGS[number][1])
    actions.schedule(consultation)
    return consultation


def detail(client, lang, consultation):
    return client.get(url(lang, "consultation_detail", slug=consultation.slug))


def comment(client, lang, consultation, body, section=""):
    return client.post(url(lang, "consultation_comment", slug=consultation.slug), {"body": body, "section": section})


def react(client, lang, consultation, number, agrees):
    return client.post(url(lang, "consultation_react", slug=consultation.slug, number=number), {"agrees": agrees})


def comment_form(lang, consultation):
    return COMMENT_FORM.format(url(lang, "consultation_comment", slug=consultation.slug))


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def test_the_draft_is_shown_in_numbered_sections(client, lang, consultation):
    response = detail(client, lang, consultation)
    assert response.status_code == 200
    assert_page_language(response, lang)
    body = page(response)
    for number, (heading_ar, heading_en) in HEADINGS.items():
        assert f'id="section-{number}"' in body
        assert f"{number}. {heading_ar if lang == 'ar' else heading_en}" in body
    assert body.index('id="section-1"') < body.index('id="section-2"') < body.index('id="section-3"')


def test_the_pdf_draft_can_be_downloaded(client, lang, entity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    consultation = make_consultation(state=State.DRAFT, entity=entity)
    # Attached before it opens: from then on the database keeps the draft document as people read it.
    consultation.attachment.save("draft.pdf", ContentFile(b"%PDF-1.7\n"), save=True)
    actions.schedule(consultation)
    response = detail(client, lang, consultation)
    assert_shown(response, t(lang, "Download the draft (PDF)"))
    # The link is the view that checks the item is public (participation/attachments.py), never MEDIA_URL.
    assert f'href="{url(lang, "attachment", slug=consultation.slug)}"' in page(response)
    assert consultation.attachment.url not in page(response)


def test_no_download_link_without_a_pdf(client, lang, consultation):
    assert_not_shown(detail(client, lang, consultation), t(lang, "Download the draft (PDF)"))


def test_someone_signed_out_gets_a_sign_in_link_and_no_forms(client, lang, consultation):
    response = detail(client, lang, consultation)
    assert_shown(response, t(lang, Barrier.NOT_LOGGED_IN.message))
    assert f'href="/{lang}/accounts/login/?next=/{lang}/consultations/{consultation.slug}/"' in page(response)
    assert comment_form(lang, consultation) not in page(response)
    assert 'name="agrees"' not in page(response)


def test_a_citizen_gets_the_comment_form_and_agree_buttons(client, lang, consultation, citizen):
    client.force_login(citizen)
    response = detail(client, lang, consultation)
    assert comment_form(lang, consultation) in page(response)
    assert page(response).count('name="agrees" value="yes"') == 3
    assert_shown(response, t(lang, "The whole draft"))


def test_a_visitor_is_told_why_not(client, lang, consultation):
    client.force_login(UserFactory(segment=Segment.VISITOR))
    response = detail(client, lang, consultation)
    assert_shown(response, t(lang, Barrier.WRONG_SEGMENT.message))
    assert comment_form(lang, consultation) not in page(response)


def test_a_consultation_not_yet_open_and_after_closing(client, lang, citizen):
    upcoming = make_consultation(opens_at=timezone.now() + timedelta(days=3))
    running = make_consultation()
    client.force_login(citizen)
    assert_shown(detail(client, lang, upcoming), t(lang, Barrier.NOT_YET_OPEN.message))
    with time_machine.travel(running.closes_at + timedelta(seconds=1), tick=False):
        client.force_login(citizen)
        response = detail(client, lang, running)
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert comment_form(lang, running) not in page(response)
    assert url(lang, "consultation_outcome", slug=running.slug) in page(response)


def test_a_draft_is_404_to_the_public_and_takes_nothing(client, lang, citizen):
    draft = make_consultation(state=State.DRAFT)
    client.force_login(citizen)
    assert detail(client, lang, draft).status_code == 404
    assert comment(client, lang, draft, "Early bird").status_code == 404
    assert react(client, lang, draft, 1, "yes").status_code == 404
    assert client.get(url(lang, "consultation_outcome", slug=draft.slug)).status_code == 404
    assert not Comment.objects.exists()
    assert not SectionReaction.objects.exists()


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


def test_a_comment_waits_for_moderation_then_appears(client, lang, consultation, citizen):
    client.force_login(citizen)
    response = comment(client, lang, consultation, "Please extend the timetable.")
    assert response.status_code == 302
    assert response["Location"] == url(lang, "consultation_detail", slug=consultation.slug) + "#comments"
    written = Comment.objects.get()
    assert (written.author, written.section, written.status) == (citizen, None, Comment.Status.PENDING)
    followed = client.get(response["Location"])
    assert_shown(followed, t(lang, "Thank you. Your comment will appear once a moderator has approved it."))
    assert_shown(
        followed,
        tn(
            lang,
            "You have %(counter)s comment waiting for moderation.",
            "You have %(counter)s comments waiting for moderation.",
            1,
            counter=1,
        ),
    )
    assert "Please extend the timetable." not in page(
        client.get(url(lang, "consultation_detail", slug=consultation.slug))
    )
    moderation.moderate_comment(make_staff(MODERATORS, written.item.entity), written, approve=True)
    client.logout()
    assert "Please extend the timetable." in page(detail(client, lang, consultation))


def test_a_comment_on_a_section_is_published_at_once_when_moderation_comes_after(client, lang, citizen):
    consultation = make_consultation(sections=2, moderate_before_publishing=False)
    second = consultation.sections.get(number=2)
    client.force_login(citizen)
    response = comment(client, lang, consultation, "Section two needs numbers.", second.pk)
    assert response.status_code == 302
    assert Comment.objects.get().section == second
    followed = client.get(response["Location"])
    assert_shown(followed, t(lang, "Thank you. Your comment has been published."))
    body = page(followed)
    assert body.index('id="section-2"') < body.index("Section two needs numbers.")


def test_hidden_comments_are_not_shown(client, lang, citizen):
    consultation = make_consultation(moderate_before_publishing=False)
    written = consultation_service.add_comment(citizen, consultation, "Rude words here")
    moderation.moderate_comment(make_staff(MODERATORS, written.item.entity), written, approve=False, reason="Insulting")
    assert "Rude words here" not in page(detail(client, lang, consultation))


@pytest.mark.parametrize("case", ["too long", "html", "empty", "section of another consultation", "unknown section"])
def test_a_bad_comment_is_a_400_with_a_clear_message_and_nothing_is_written(client, lang, consultation, citizen, case):
    other_section = make_consultation(sections=1).sections.get()
    body, section, message = {
        "too long": (
            "x" * 2001,
            "",
            t(
                lang,
                "Comments can be at most %(limit_value)d characters; yours has %(show_value)d.",
                limit_value=2000,
                show_value=2001,
            ),
        ),
        "html": ("Look <a href='http://evil.example'>here</a>", "", None),
        "empty": ("   ", "", t(lang, "Write your comment before sending it.")),
        "section of another consultation": ("Fine words", other_section.pk, None),
        "unknown section": ("Fine words", "99999", None),
    }[case]
    if case == "html":
        message = t(lang, "Comments cannot contain HTML. Write plain text, without < and > around words.")
    client.force_login(citizen)
    response = comment(client, lang, consultation, body, section)
    assert response.status_code == 400
    assert_page_language(response, lang)
    # The consultation page again (no dead end), with the problem summarised above the form.
    assert_shown(response, consultation.title_ar if lang == "ar" else consultation.title_en)
    assert comment_form(lang, consultation) in page(response)
    assert_shown(response, t(lang, "There is a problem"))
    assert_not_shown(response, t(lang, "Your answer was not saved"))
    if message:
        assert_shown(response, message)
    assert not Comment.objects.exists()


def test_a_comment_after_closing_is_a_403_and_nothing_is_written(client, lang, consultation, citizen):
    with time_machine.travel(consultation.closes_at, tick=False):
        client.force_login(citizen)
        response = comment(client, lang, consultation, "Too late?")
    assert response.status_code == 403
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert not Comment.objects.exists()


def test_a_comment_from_someone_signed_out_is_a_403(client, lang, consultation):
    response = comment(client, lang, consultation, "Who am I?")
    assert response.status_code == 403
    assert_shown(response, t(lang, Barrier.NOT_LOGGED_IN.message))
    assert not Comment.objects.exists()


def test_comments_and_names_are_escaped(client, lang):
    consultation = make_consultation(moderate_before_publishing=False)
    author = VerifiedUserFactory(full_name="<b onmouseover=alert(1)>Nasser</b>")
    consultation_service.add_comment(author, consultation, 'Fares & "tolls" 5 > 3, it\'s fine')
    body = page(detail(client, lang, consultation))
    assert "<b onmouseover" not in body
    assert "&lt;b onmouseover=alert(1)&gt;Nasser&lt;/b&gt;" in body
    assert "Fares &amp; &quot;tolls&quot; 5 &gt; 3, it&#x27;s fine" in body


# ---------------------------------------------------------------------------
# Agree / disagree
# ---------------------------------------------------------------------------


def test_agree_then_change_to_disagree(client, lang, consultation, citizen):
    client.force_login(citizen)
    response = react(client, lang, consultation, 2, "yes")
    assert response.status_code == 302
    assert response["Location"] == url(lang, "consultation_detail", slug=consultation.slug) + "#section-2"
    assert_shown(
        client.get(response["Location"]),
        t(lang, "Thank you. Your view on section %(number)d has been saved.", number=2),
    )
    react(client, lang, consultation, 2, "no")
    reaction = SectionReaction.objects.get()
    assert (reaction.section.number, reaction.user, reaction.agrees) == (2, citizen, False)
    consultation_service.react_to_section(VerifiedUserFactory(), consultation.sections.get(number=2), True)
    with_counts = detail(client, lang, consultation)
    assert_shown(with_counts, t(lang, "%(agree)s agree · %(disagree)s disagree", agree=1, disagree=1))


@pytest.mark.parametrize("value", ["maybe", ""])
def test_an_answer_other_than_agree_or_disagree_is_a_400(client, lang, consultation, citizen, value):
    client.force_login(citizen)
    response = react(client, lang, consultation, 1, value)
    assert response.status_code == 400
    assert_shown(response, t(lang, "Choose “Agree” or “Disagree”."))
    assert not SectionReaction.objects.exists()


def test_reacting_to_a_section_that_does_not_exist_is_404(client, lang, consultation, citizen):
    client.force_login(citizen)
    assert react(client, lang, consultation, 9, "yes").status_code == 404
    assert not SectionReaction.objects.exists()


def test_reacting_after_closing_is_a_403(client, lang, consultation, citizen):
    with time_machine.travel(consultation.closes_at + timedelta(days=1), tick=False):
        client.force_login(citizen)
        response = react(client, lang, consultation, 1, "yes")
    assert response.status_code == 403
    assert_shown(response, t(lang, Barrier.CLOSED.message))
    assert not SectionReaction.objects.exists()


# ---------------------------------------------------------------------------
# Outcome
# ---------------------------------------------------------------------------


def outcome(client, lang, consultation):
    return client.get(url(lang, "consultation_outcome", slug=consultation.slug))


def test_there_is_no_outcome_page_before_closing(client, lang, consultation):
    assert outcome(client, lang, consultation).status_code == 404


def test_after_closing_the_outcome_is_due_12_weeks_later_then_overdue(client, lang, consultation):
    due = consultation.closes_at + timedelta(weeks=12)
    with time_machine.travel(consultation.closes_at + timedelta(days=1), tick=False):
        response = outcome(client, lang, consultation)
    assert response.status_code == 200
    assert_page_language(response, lang)
    assert_shown(response, t(lang, "The ministry has not published the outcome yet."))
    assert f'<time datetime="{timezone.localtime(due).strftime("%Y-%m-%dT%H:%M:%S%z")}">' in page(response)
    assert_not_shown(response, t(lang, "Overdue: the ministry has not yet published the outcome."))
    with time_machine.travel(due + timedelta(days=1), tick=False):
        late = outcome(client, lang, consultation)
        on_page = detail(client, lang, consultation)
    assert_shown(late, t(lang, "Overdue: the ministry has not yet published the outcome."))
    assert_shown(on_page, t(lang, "Overdue: the ministry has not yet published the outcome."))


def test_the_published_outcome_says_what_we_heard_and_what_we_changed(client, lang, consultation):
    Item.objects.filter(pk=consultation.pk).update(
        outcome_heard_ar="سمعنا أن المواعيد قصيرة",
        outcome_heard_en="We heard the deadlines were short",
        outcome_changed_ar="مددنا المواعيد",
        outcome_changed_en="We extended the deadlines",
    )
    consultation.refresh_from_db()
    moment = consultation.closes_at + timedelta(weeks=13)
    with time_machine.travel(moment, tick=False):
        lifecycle.publish_results(None, consultation)
        response = outcome(client, lang, consultation)
    assert response.status_code == 200
    assert_shown(response, t(lang, "What we heard"))
    assert_shown(response, t(lang, "What we changed"))
    heard = {"ar": "سمعنا أن المواعيد قصيرة", "en": "We heard the deadlines were short"}[lang]
    changed = {"ar": "مددنا المواعيد", "en": "We extended the deadlines"}[lang]
    assert heard in page(response)
    assert changed in page(response)
    assert_not_shown(response, t(lang, "Overdue: the ministry has not yet published the outcome."))


# ---------------------------------------------------------------------------
# A refused comment comes back on the consultation page (issue 12)
# ---------------------------------------------------------------------------


def error_summary(response):
    return re.search(
        r'<div class="alert alert-danger" role="alert"[^>]*id="error-summary">.*?</div>', page(response), re.S
    )


def test_an_empty_comment_is_refused_beside_the_form_keeping_the_section_chosen(client, lang, consultation, citizen):
    client.force_login(citizen)
    section = consultation.sections.get(number=2)
    response = comment(client, lang, consultation, "   ", section.pk)
    assert response.status_code == 400
    body = page(response)
    title = consultation.title_ar if lang == "ar" else consultation.title_en
    assert re.search(rf"<title>{re.escape(t(lang, 'Error:'))} {re.escape(title)} ", body), (
        "the title starts with “Error:”"
    )
    summary = error_summary(response)
    assert summary, "no error summary"
    # The summary links to the field; the field says what is wrong next to it, and the script moves focus there.
    assert '<a href="#id_body">' in summary.group(0)
    assert escape(t(lang, "Write your comment before sending it.")) in summary.group(0)
    assert 'id="id_body"' in body and "is-invalid" in body
    assert body.index('id="error-summary"') < body.index('id="id_body"')
    assert "js/error_summary.js" in body
    assert re.search(rf'<option value="{section.pk}" selected>', body), "the section chosen is kept"


def test_a_comment_too_long_keeps_every_character_typed(client, lang, consultation, citizen):
    client.force_login(citizen)
    typed = "A thought about <b>bold</b> plans. " * 60  # 2,100 characters, with HTML to be escaped
    response = comment(client, lang, consultation, typed)
    assert response.status_code == 400
    assert escape(typed.strip()) in page(response) or escape(typed) in page(response)
    assert "<b>bold</b>" not in page(response)
    assert not Comment.objects.exists()


def test_a_comment_with_html_is_refused_beside_the_field(client, lang, consultation, citizen):
    client.force_login(citizen)
    response = comment(client, lang, consultation, "See <a href='x'>this</a>")
    assert response.status_code == 400
    message = escape(t(lang, "Comments cannot contain HTML. Write plain text, without < and > around words."))
    assert message in error_summary(response).group(0)
    assert escape("See <a href='x'>this</a>") in page(response)


def test_no_error_summary_on_the_page_as_first_shown(client, lang, consultation, citizen):
    client.force_login(citizen)
    response = detail(client, lang, consultation)
    assert error_summary(response) is None
    assert "js/error_summary.js" not in page(response)


def test_a_comment_after_closing_comes_back_on_the_page_with_the_reason(client, lang, consultation, citizen):
    with time_machine.travel(consultation.closes_at + timedelta(days=1), tick=False):
        client.force_login(citizen)
        response = comment(client, lang, consultation, "Too late?")
    assert response.status_code == 403
    assert escape(t(lang, Barrier.CLOSED.message)) in error_summary(response).group(0)


# ---------------------------------------------------------------------------
# Agree / disagree: the choice is visible (issue 12)
# ---------------------------------------------------------------------------


def reaction_buttons(response, number):
    article = re.search(rf'<article id="section-{number}".*?</article>', page(response), re.S).group(0)
    buttons = re.findall(
        r'<button type="submit" name="agrees" value="(yes|no)" class="([^"]*)" aria-pressed="(true|false)">(.*?)</button>',
        article,
        re.S,
    )
    return article, {value: (classes.split(), pressed, text) for value, classes, pressed, text in buttons}


def test_nothing_is_marked_before_a_person_answers(client, lang, consultation, citizen):
    client.force_login(citizen)
    article, buttons = reaction_buttons(detail(client, lang, consultation), 1)
    assert {value: (("btn-outline-primary" in c), p) for value, (c, p, _text) in buttons.items()} == {
        "yes": (True, "false"),
        "no": (True, "false"),
    }
    assert "reaction-own" not in article


@pytest.mark.parametrize(
    ("agrees", "words"),
    [("yes", "Your view: you agree with this section."), ("no", "Your view: you disagree with this section.")],
)
def test_the_answer_is_shown_filled_ticked_and_in_words_after_the_post(
    client, lang, consultation, citizen, agrees, words
):
    client.force_login(citizen)
    response = client.get(react(client, lang, consultation, 2, agrees)["Location"])
    article, buttons = reaction_buttons(response, 2)
    other = "no" if agrees == "yes" else "yes"
    chosen_classes, chosen_pressed, chosen_text = buttons[agrees]
    assert "btn-primary" in chosen_classes and "btn-outline-primary" not in chosen_classes
    assert chosen_pressed == "true" and "✓" in chosen_text
    assert "btn-outline-primary" in buttons[other][0] and buttons[other][1] == "false" and "✓" not in buttons[other][2]
    assert escape(t(lang, words)) in article
    # Only the section answered shows it.
    assert "reaction-own" not in reaction_buttons(response, 1)[0]


def test_changing_the_answer_moves_the_mark(client, lang, consultation, citizen):
    client.force_login(citizen)
    react(client, lang, consultation, 3, "yes")
    react(client, lang, consultation, 3, "no")
    article, buttons = reaction_buttons(detail(client, lang, consultation), 3)
    assert "btn-primary" in buttons["no"][0] and "btn-outline-primary" in buttons["yes"][0]
    assert escape(t(lang, "Your view: you disagree with this section.")) in article
    assert escape(t(lang, "Your view: you agree with this section.")) not in article


def test_the_comment_address_asked_by_get_leads_back_to_the_consultation(client, lang, consultation, citizen):
    """The error page's language switch points to the comment address: a GET there is no dead end."""
    client.force_login(citizen)
    other = "en" if lang == "ar" else "ar"
    response = client.get(url(other, "consultation_comment", slug=consultation.slug))
    assert response.status_code == 302
    assert response["Location"] == url(other, "consultation_detail", slug=consultation.slug) + "#add-comment"
    assert not Comment.objects.exists()
