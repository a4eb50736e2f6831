"""A ministry with one closed consultation in each outcome state, built through the services at fixed moments.

NOW (1 July 2026) is after the default due date of consultations closed on 15 March (7 June), and before
that of one closed on 20 June (12 September). Every outcome text is written before the outcome is published,
so a test can check that what changed stays hidden until the ministry publishes it.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from participation.models import Consultation, Section, State
from participation.services import consultation as consultation_service
from participation.services import lifecycle

from .audit_helpers import CLOSES, OPENS, QATAR, _texts, at, opened, transport_ministry, voters

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=QATAR)
PUBLISHED = datetime(2026, 5, 1, 10, 0, tzinfo=QATAR)
LATE_DUE = datetime(2026, 4, 1, 10, 0, tzinfo=QATAR)
RECENT_CLOSE = datetime(2026, 6, 20, 8, 0, tzinfo=QATAR)


def consultation(slug, *, entity=None, closes_at=CLOSES, due_at=None, published_at=None, took_part=0, state=State.CLOSED):
    """A consultation of `entity` closed at `closes_at`; `took_part` of the three voters commented (the first
    of them also reacted to the section, counting once); its outcome published at `published_at` if given."""
    opens_at = min(OPENS, closes_at - timedelta(days=14))
    with at(opens_at):
        item = Consultation.objects.create(
            entity=entity or transport_ministry(),
            slug=slug,
            opens_at=opens_at,
            closes_at=closes_at,
            outcome_due_at=due_at,
            state=State.DRAFT,
            outcome_heard_ar=f"ما سمعناه في {slug}",
            outcome_heard_en=f"What we heard in {slug}",
            outcome_changed_ar=f"ما غيرناه في {slug}",
            outcome_changed_en=f"What we changed in {slug}",
            **_texts(f"استشارة {slug}", f"Consultation {slug}"),
        )
        section = Section.objects.create(
            item=item, number=1, heading_ar="القسم", heading_en="Section", body_ar="نص", body_en="Text"
        )
        opened(item)
        people = voters()[:took_part]
    with at(opens_at + timedelta(days=1)):
        for person in people:
            consultation_service.add_comment(person, item, f"A comment on {slug}", section=section)
        if people:
            consultation_service.react_to_section(people[0], section, True)
    if state != State.OPEN:
        opened(item, State.CLOSED)
    if published_at is not None:
        with at(published_at):
            lifecycle.publish_results(None, item, now=timezone.now())
    item.refresh_from_db()
    return item


def record_of_four(entity=None):
    """On time (3 took part), late (2), overdue (1) and not yet due (0), plus an open one and a draft."""
    items = {
        "on_time": consultation("on-time", entity=entity, published_at=PUBLISHED, took_part=3),
        "late": consultation("late", entity=entity, due_at=LATE_DUE, published_at=PUBLISHED, took_part=2),
        "overdue": consultation("overdue", entity=entity, took_part=1),
        "awaiting": consultation("awaiting", entity=entity, closes_at=RECENT_CLOSE),
        "open": consultation("still-open", entity=entity, closes_at=NOW + timedelta(days=30), state=State.OPEN),
    }
    with at(OPENS):
        items["draft"] = Consultation.objects.create(
            entity=items["on_time"].entity, slug="a-draft", opens_at=NOW, closes_at=NOW + timedelta(days=9),
            outcome_changed_en="Draft outcome text", **_texts("مسودة", "A draft consultation"),
        )
    return items
