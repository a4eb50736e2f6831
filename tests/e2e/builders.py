"""Content and people for the browser scenarios, made through the app's own services and factories."""

import itertools
import re
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import Segment
from participation.models import Consultation, Entity, Option, Poll, Question, Referendum, Section
from participation.services import lifecycle
from tests.factories import PASSWORD, StaffUserFactory, UserFactory, VerifiedUserFactory

_serial = itertools.count(1)

# What ministry staff need for scenario 2 (the "Ministry admins" group of migration 0003, given
# directly: transactional tests flush the groups that migrations create).
STAFF_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("item", "poll", "question", "option")
    for action in ("add", "change", "view", "delete")
] + ["view_entity", "schedule_item"]
MODERATOR_PERMISSIONS = ["view_item", "view_consultation", "view_section", "view_comment", "change_comment", "moderate_comment"]
AUDITOR_PERMISSIONS = ["export_results", "view_auditentry", "view_result", "view_all_entities"]


def serial():
    return next(_serial)


def grant(user, codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="participation", codename__in=codenames))
    return user


def entity(**fields):
    n = serial()
    defaults = {"name_ar": f"وزارة الاختبار الشامل {n}", "name_en": f"Ministry of End-to-End Testing {n}", "slug": f"e2e-ministry-{n}"}
    return Entity.objects.create(**(defaults | fields))


def _item(model, title_ar, title_en, *, owner=None, opens_in=timedelta(days=-1), lasts=timedelta(days=7), **fields):
    n = serial()
    now = timezone.now()
    item = model.objects.create(
        entity=fields.pop("entity", None) or entity(),
        slug=fields.pop("slug", f"e2e-{model.proxy_kind}-{n}"),
        title_ar=title_ar,
        title_en=title_en,
        summary_ar=fields.pop("summary_ar", "ملخص قصير للبند باللغة العربية."),
        summary_en=fields.pop("summary_en", "A short summary of the item in English."),
        body_ar=fields.pop("body_ar", "نص البند كاملاً باللغة العربية."),
        body_en=fields.pop("body_en", "The full text of the item in English."),
        opens_at=now + opens_in,
        closes_at=now + opens_in + lasts,
        created_by=owner,
        **fields,
    )
    return item


def question(item, position, text_ar, text_en, options, *, multiple=False, allow_abstain=False):
    q = Question.objects.create(
        item=item,
        position=position,
        text_ar=text_ar,
        text_en=text_en,
        kind=Question.Kind.MULTIPLE if multiple else Question.Kind.SINGLE,
        min_choices=1,
        max_choices=len(options) if multiple else 1,
        allow_abstain=allow_abstain,
    )
    for number, (ar, en) in enumerate(options, start=1):
        Option.objects.create(question=q, position=number, text_ar=ar, text_en=en)
    return q


def open_poll(title_ar="استطلاع النقل الليلي", title_en="Night transport poll", **fields):
    """A scheduled, open poll with two questions (one single choice, one multiple choice)."""
    poll = _item(Poll, title_ar, title_en, **fields)
    question(poll, 1, "هل تؤيد تشغيل الحافلات ليلاً؟", "Do you support night buses?", [("أؤيد", "I support it"), ("لا أؤيد", "I do not support it")])
    question(
        poll, 2, "ما الأوقات التي تناسبك؟", "Which times suit you?",
        [("المساء", "Evening"), ("منتصف الليل", "Midnight"), ("الفجر", "Dawn")], multiple=True,
    )
    lifecycle.schedule_item(None, poll)
    return poll


def open_referendum(title_ar="استفتاء على قانون المدارس الصحية", title_en="Referendum on the healthy schools law", **fields):
    referendum = _item(Referendum, title_ar, title_en, requires_verified_identity=True, **fields)
    question(
        referendum, 1, "هل توافق على منع المشروبات السكرية في المقاصف؟", "Do you agree to ban sugary drinks in canteens?",
        [("نعم", "Yes"), ("لا", "No")], allow_abstain=True,
    )
    lifecycle.schedule_item(None, referendum)
    return referendum


def open_consultation(title_ar="مسودة استراتيجية السلامة المرورية", title_en="Draft road safety strategy", **fields):
    consultation = _item(Consultation, title_ar, title_en, moderate_before_publishing=True, **fields)
    for number, (ar, en) in enumerate([("الأهداف", "Goals"), ("الإجراءات المقترحة", "Proposed measures")], start=1):
        Section.objects.create(
            item=consultation, number=number, heading_ar=ar, heading_en=en,
            body_ar=f"نص القسم {number}: {ar}.", body_en=f"Text of section {number}: {en}.",
        )
    lifecycle.schedule_item(None, consultation)
    return consultation


def citizen(**fields):
    return UserFactory(segment=Segment.CITIZEN, **fields)


def verified_citizen(**fields):
    return VerifiedUserFactory(segment=Segment.CITIZEN, **fields)


def staff(codenames, entities=(), **fields):
    user = grant(StaffUserFactory(**fields), codenames)
    for e in entities:
        e.members.add(user)
    return user


def auditor(**fields):
    return grant(UserFactory(segment="", identity_number="", **fields), AUDITOR_PERMISSIONS)


# ---------------------------------------------------------------------------
# Browser steps shared by the scenarios
# ---------------------------------------------------------------------------


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
