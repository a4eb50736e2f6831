"""Items with realistic wording for the browser scenarios (tests/e2e): what a person would read on the page.

Built with `make_poll`, `make_referendum` and `make_consultation` as drafts, given their questions or
sections, then scheduled through the service as a ministry admin does. Each opens a day ago and lasts a
week unless `opens_in` or `lasts` say otherwise; `owner` is recorded as the item's author.
"""

from datetime import timedelta

from django.utils import timezone

from participation.models import State

from . import actions
from .items import add_question, add_section, make_consultation, make_poll, make_referendum


def _scenario(title_ar, title_en, owner=None, opens_in=timedelta(days=-1), lasts=timedelta(days=7), **fields):
    opens_at = timezone.now() + opens_in
    return {
        "title_ar": title_ar,
        "title_en": title_en,
        "summary_ar": "ملخص قصير للبند باللغة العربية.",
        "summary_en": "A short summary of the item in English.",
        "body_ar": "نص البند كاملاً باللغة العربية.",
        "body_en": "The full text of the item in English.",
        "opens_at": opens_at,
        "closes_at": opens_at + lasts,
        "created_by": owner,
        "state": State.DRAFT,
        **fields,
    }


def draft_poll(title_ar, title_en, **fields):
    """A draft poll without questions (add them with `add_question`)."""
    return make_poll(questions=0, **_scenario(title_ar, title_en, **fields))


def open_poll(title_ar="استطلاع النقل الليلي", title_en="Night transport poll", **fields):
    """A scheduled, open poll with two questions (one single choice, one multiple choice)."""
    poll = draft_poll(title_ar, title_en, **fields)
    add_question(
        poll,
        [("أؤيد", "I support it"), ("لا أؤيد", "I do not support it")],
        text_ar="هل تؤيد تشغيل الحافلات ليلاً؟",
        text_en="Do you support night buses?",
    )
    add_question(
        poll,
        [("المساء", "Evening"), ("منتصف الليل", "Midnight"), ("الفجر", "Dawn")],
        multiple=True,
        text_ar="ما الأوقات التي تناسبك؟",
        text_en="Which times suit you?",
    )
    actions.schedule(poll)
    return poll


def open_referendum(
    title_ar="استفتاء على قانون المدارس الصحية", title_en="Referendum on the healthy schools law", **fields
):
    question = {
        "text_ar": "هل توافق على منع المشروبات السكرية في المقاصف؟",
        "text_en": "Do you agree to ban sugary drinks in canteens?",
    }
    referendum = make_referendum(question_fields=question, **_scenario(title_ar, title_en, **fields))
    actions.schedule(referendum)
    return referendum


def open_consultation(title_ar="مسودة استراتيجية السلامة المرورية", title_en="Draft road safety strategy", **fields):
    """A scheduled, open consultation that moderates comments before publishing them, with two sections."""
    fields.setdefault("moderate_before_publishing", True)
    consultation = make_consultation(0, **_scenario(title_ar, title_en, **fields))
    for ar, en in [("الأهداف", "Goals"), ("الإجراءات المقترحة", "Proposed measures")]:
        number = consultation.sections.count() + 1
        add_section(
            consultation,
            heading_ar=ar,
            heading_en=en,
            body_ar=f"نص القسم {number}: {ar}.",
            body_en=f"Text of section {number}: {en}.",
        )
    actions.schedule(consultation)
    return consultation
