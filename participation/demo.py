"""Sample entities and items for `seed_demo`: one open, one upcoming and one closed of each type."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Segment

from . import roles
from .models import Entity, Item, Kind, Option, Question, Section
from .services import consultation, counting, lifecycle, moderation, voting

ENTITIES = [
    ("transport", "وزارة المواصلات", "Ministry of Transport"),
    ("health", "وزارة الصحة العامة", "Ministry of Public Health"),
]

# slug, entity, kind, timing, title (ar, en), summary (ar, en)
# The demo ministry employee does the whole job: writes drafts, schedules and publishes them, moderates
# comments (issue 12: with "Ministry staff" alone the actions menu was empty and a draft stayed a draft).
STAFF_ROLES = (roles.MINISTRY_STAFF, roles.MINISTRY_ADMINS, roles.MODERATORS)

ITEMS = [
    ("metro-night-service", "transport", Kind.POLL, "open",
     ("تشغيل المترو ليلاً في عطلة نهاية الأسبوع", "Night metro service at weekends"),
     ("نود معرفة رأيكم في تمديد ساعات تشغيل مترو الدوحة ليلاً.", "Tell us whether Doha Metro should run later at night.")),
    ("school-bus-routes", "transport", Kind.POLL, "upcoming",
     ("مسارات الحافلات المدرسية", "School bus routes"),
     ("استطلاع لأولياء الأمور حول مسارات الحافلات المدرسية الجديدة.", "A poll for parents on the new school bus routes.")),
    ("cycling-lanes-2026", "transport", Kind.POLL, "closed",
     ("مسارات الدراجات الهوائية", "Cycling lanes"),
     ("أين تريدون مسارات جديدة للدراجات الهوائية؟", "Where would you like new cycling lanes?")),
    ("healthy-schools-law", "health", Kind.REFERENDUM, "open",
     ("استفتاء على قانون المدارس الصحية", "Referendum on the healthy schools law"),
     ("هل توافق على منع المشروبات السكرية في مقاصف المدارس؟", "Do you agree to ban sugary drinks in school canteens?")),
    ("clinic-hours", "health", Kind.REFERENDUM, "upcoming",
     ("ساعات عمل المراكز الصحية", "Health centre opening hours"),
     ("استفتاء على تمديد ساعات عمل المراكز الصحية مساءً.", "A referendum on opening health centres in the evening.")),
    ("smoke-free-parks", "health", Kind.REFERENDUM, "closed",
     ("الحدائق الخالية من التدخين", "Smoke-free parks"),
     ("هل يجب منع التدخين في جميع الحدائق العامة؟", "Should smoking be banned in all public parks?")),
    ("road-safety-strategy", "transport", Kind.CONSULTATION, "open",
     ("مسودة استراتيجية السلامة المرورية", "Draft road safety strategy"),
     ("شاركونا آراءكم في مسودة الاستراتيجية الوطنية للسلامة المرورية.", "Comment on the draft national road safety strategy.")),
    ("telehealth-policy", "health", Kind.CONSULTATION, "upcoming",
     ("سياسة الرعاية الصحية عن بعد", "Telehealth policy"),
     ("مسودة سياسة تنظيم خدمات الرعاية الصحية عن بعد.", "A draft policy regulating telehealth services.")),
    ("food-labelling", "health", Kind.CONSULTATION, "closed",
     ("بطاقات البيانات الغذائية", "Food labelling"),
     ("مسودة لائحة بطاقات البيانات الغذائية على المنتجات.", "Draft rules on nutrition labels for food products.")),
]

BODY = (
    "تنشر الوزارة هذا البند لإشراك الجمهور في صنع القرار. اقرأ التفاصيل ثم شارك برأيك قبل الموعد النهائي.",
    "The ministry publishes this item to involve the public in its decision. Read the details, then have your say before the deadline.",
)


def _timing(kind_of_time, now):
    if kind_of_time == "open":
        return now - timedelta(days=2), now + timedelta(days=12)
    if kind_of_time == "upcoming":
        return now + timedelta(days=5), now + timedelta(days=30)
    return now - timedelta(days=40), now - timedelta(days=10)


def _questions(item):
    if item.kind == Kind.CONSULTATION:
        for number, (ar, en) in enumerate(
            [("الأهداف", "Goals"), ("الإجراءات المقترحة", "Proposed measures"), ("التنفيذ والمتابعة", "Delivery and follow-up")],
            start=1,
        ):
            Section.objects.create(
                item=item, number=number, heading_ar=ar, heading_en=en,
                body_ar=f"نص القسم {number} من المسودة: {ar}.", body_en=f"Text of section {number} of the draft: {en}.",
            )
        return
    if item.kind == Kind.REFERENDUM:
        question = Question.objects.create(
            item=item, text_ar=item.summary_ar, text_en=item.summary_en, allow_abstain=True
        )
        Option.objects.create(question=question, position=1, text_ar="نعم", text_en="Yes")
        Option.objects.create(question=question, position=2, text_ar="لا", text_en="No")
        return
    first = Question.objects.create(
        item=item, position=1, text_ar="هل تؤيد هذا المقترح؟", text_en="Do you support this proposal?", allow_abstain=True
    )
    for position, (ar, en) in enumerate([("أؤيد", "I support it"), ("لا أؤيد", "I do not support it")], start=1):
        Option.objects.create(question=first, position=position, text_ar=ar, text_en=en)
    second = Question.objects.create(
        item=item, position=2, text_ar="ما الأوقات التي تناسبك؟", text_en="Which times suit you?",
        kind=Question.Kind.MULTIPLE, min_choices=1, max_choices=2,
    )
    for position, (ar, en) in enumerate([("الصباح", "Morning"), ("المساء", "Evening"), ("الليل", "Night")], start=1):
        Option.objects.create(question=second, position=position, text_ar=ar, text_en=en)


def seed(accounts):
    """Create the sample content once; later runs leave existing items as they are."""
    by_email = {user.email: user for user in accounts}
    staff = by_email["staff@demo.hukoomi.qa"]
    staff.groups.add(*Group.objects.filter(name__in=STAFF_ROLES))
    entities = {}
    for slug, ar, en in ENTITIES:
        entity, _ = Entity.objects.update_or_create(slug=slug, defaults={"name_ar": ar, "name_en": en})
        entity.members.add(staff)
        entities[slug] = entity
    now = timezone.now()
    for slug, entity, kind, timing, (title_ar, title_en), (summary_ar, summary_en) in ITEMS:
        if Item.objects.filter(slug=slug).exists():
            continue
        opens_at, closes_at = _timing(timing, now)
        item = Item.objects.create(
            kind=kind, slug=slug, entity=entities[entity], title_ar=title_ar, title_en=title_en,
            summary_ar=summary_ar, summary_en=summary_en, body_ar=BODY[0], body_en=BODY[1],
            opens_at=opens_at, closes_at=closes_at, for_visitors=kind == Kind.POLL,
            live_results=kind == Kind.POLL and timing == "open", requires_verified_identity=kind == Kind.REFERENDUM,
            created_by=staff,
        )
        _questions(item)
        lifecycle.schedule_item(None, item)  # the seed acts as the system
        if timing == "closed":
            _cast_sample_ballots(item, accounts, opens_at)
            lifecycle.close_item(item.pk, nudge=False)  # the seed does the count itself, below
            if kind == Kind.CONSULTATION:
                Item.objects.filter(pk=item.pk).update(
                    outcome_heard_ar="تلقينا 120 تعليقاً، أغلبها يطلب بطاقات أوضح.",
                    outcome_heard_en="We received 120 comments, most asking for clearer labels.",
                    outcome_changed_ar="أضفنا ترميزاً لونياً للسكر والملح والدهون.",
                    outcome_changed_en="We added colour coding for sugar, salt and fat.",
                )
            item.refresh_from_db()
            if kind == Kind.CONSULTATION:
                lifecycle.publish_results(None, item)
            else:
                # A command, not a request: it may count, as the worker would at the close.
                counting.tally_and_publish(item.pk)


def _cast_sample_ballots(item, accounts, when):
    """Ballots by the demo people, cast while the item was open (the clock is moved back for them)."""
    closes_at = item.closes_at
    Item.objects.filter(pk=item.pk).update(closes_at=timezone.now() + timedelta(minutes=5))
    item.refresh_from_db()
    voters = [u for u in accounts if u.segment in (Segment.CITIZEN, Segment.RESIDENT, Segment.VISITOR)]
    for index, user in enumerate(voters):
        if item.kind == Kind.POLL and (user.segment != Segment.VISITOR or item.for_visitors):
            first, second = item.questions.all()[:2]
            options = list(first.options.all())
            voting.cast_poll_ballot(
                user, item, {first.pk: [str(options[index % 2].pk)], second.pk: [str(second.options.first().pk)]}
            )
        elif item.kind == Kind.REFERENDUM and user.segment != Segment.VISITOR:
            option = item.questions.first().options.all()[index % 2]
            voting.cast_referendum_ballot(user, item, option.pk)
        elif item.kind == Kind.CONSULTATION and user.segment != Segment.VISITOR:
            comment = consultation.add_comment(user, item, "أقترح توضيح المصطلحات في القسم الأول." if index % 2 else "Please make the labels larger.")
            moderation.moderate_comment(accounts[0], comment, approve=True)
    Item.objects.filter(pk=item.pk).update(closes_at=closes_at)
