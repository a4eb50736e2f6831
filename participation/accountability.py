""" "You said, we did": each ministry's record of responding to its consultations.

Everything here only reads, with a fixed number of aggregate queries whatever the number of items:
one for the closed items, one for the stored turnout of polls and referendums (Result.ballots, one
row per item, never the ballots themselves), and one UNION for the people who took part in
consultations. Whether an outcome is on time, late or overdue follows from the clock at the moment
of the request (`now`), as "open" and "closed" do, so nothing depends on a job having run.

Definitions (the page and docs/opendata.md say the same):
- items held: the entity's public items closed by the clock (consultations, polls and referendums);
- took part: a poll's or referendum's counted ballots (its stored Result; an item not yet counted has
  no figure), or the distinct people who commented on a consultation (in any moderation state) or
  said whether they agreed with one of its sections;
- median turnout: the median of "took part" over the entity's items that have a figure;
- outcome due: Item.outcome_due() (outcome_due_at, or 12 weeks after closing);
- on time: published at or before the due moment; late: published after it; overdue: not published
  and the due moment has passed; awaiting: not published and not yet due (not counted in the share);
- share on time: on time / (on time + late + overdue), or no figure when none of them is due yet.
"""

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .bilingual import current_language
from .models import DEFAULT_OUTCOME_DELAY, Comment, Entity, Item, Kind, Result, Section, SectionReaction

ON_TIME, LATE, OVERDUE, AWAITING = "on_time", "late", "overdue", "awaiting"
STATUS_LABELS = {
    ON_TIME: _("Published on time"),
    LATE: _("Published late"),
    OVERDUE: _("Overdue"),
    AWAITING: _("Not due yet"),
}
STATUSES = tuple(STATUS_LABELS)

RECORD_FIELDS = (
    "pk",
    "entity_id",
    "kind",
    "slug",
    "title_ar",
    "title_en",
    "closes_at",
    "outcome_due_at",
    "outcome_published_at",
    "outcome_changed_ar",
    "outcome_changed_en",
)


def outcome_due(row):
    """Item.outcome_due() for a row of values()."""
    return row["outcome_due_at"] or row["closes_at"] + DEFAULT_OUTCOME_DELAY


def outcome_status(due, published_at, now):
    """ON_TIME, LATE, OVERDUE or AWAITING for one closed consultation (see the module's definitions)."""
    if published_at is not None:
        return ON_TIME if published_at <= due else LATE
    return OVERDUE if now > due else AWAITING


def consultation_participants(item_ids=None):
    """{item id: distinct people who commented on or reacted to the consultation}: one UNION query.

    UNION (not UNION ALL) removes a person who did both; a person counts once per consultation.
    """
    comment, section, reaction = Comment._meta.db_table, Section._meta.db_table, SectionReaction._meta.db_table
    comment_filter = reaction_filter = ""
    params = []
    if item_ids is not None:
        ids = list(item_ids)
        if not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        comment_filter = f" WHERE c.item_id IN ({marks})"
        reaction_filter = f" WHERE s.item_id IN ({marks})"
        params = ids + ids
    sql = (
        "SELECT people.item_id, COUNT(*) FROM ("  # noqa: S608 (table names from the models, values as parameters)
        f"SELECT c.item_id AS item_id, c.author_id AS person FROM {comment} c{comment_filter} "
        "UNION "
        f"SELECT s.item_id AS item_id, r.user_id AS person FROM {reaction} r "
        f"JOIN {section} s ON s.id = r.section_id{reaction_filter}"
        ") people GROUP BY people.item_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def took_part(items):
    """{item id: how many took part} for closed items (rows with pk and kind); items without a figure are absent."""
    counted = [row["pk"] for row in items if row["kind"] != Kind.CONSULTATION]
    consultations = [row["pk"] for row in items if row["kind"] == Kind.CONSULTATION]
    figures = dict(Result.objects.filter(item_id__in=counted).values_list("item_id", "ballots")) if counted else {}
    if consultations:
        participants = consultation_participants(consultations)
        figures |= {pk: participants.get(pk, 0) for pk in consultations}
    return figures


def closed_items(now, entity=None):
    """Public items closed by the clock, as rows (dicts of RECORD_FIELDS), newest closing first."""
    items = Item.objects.public().closed(now)
    if entity is not None:
        items = items.filter(entity=entity)
    return list(items.order_by("-closes_at", "-pk").values(*RECORD_FIELDS))


@dataclass
class ConsultationRecord:
    """One closed consultation on the record: what the page, the CSV and the JSON show."""

    pk: int
    entity: Entity
    slug: str
    title_ar: str
    title_en: str
    closes_at: datetime
    outcome_due: datetime
    outcome_published_at: datetime | None
    status: str
    took_part: int
    changed_ar: str
    changed_en: str

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def title(self):
        return getattr(self, f"title_{current_language()}") or self.title_ar

    @property
    def changed(self):
        return getattr(self, f"changed_{current_language()}") or self.changed_ar

    def get_absolute_url(self):
        return reverse("participation:consultation_outcome", kwargs={"slug": self.slug})


@dataclass
class EntityRecord:
    """One row of the government-wide table."""

    entity: Entity
    items_held: int = 0
    turnouts: list = field(default_factory=list)
    statuses: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def median_turnout(self):
        """A whole number of people, or a half when the middle falls between two items (2, not 2.0)."""
        if not self.turnouts:
            return None
        median = statistics.median(self.turnouts)
        return int(median) if median == int(median) else median

    @property
    def outcomes_due(self):
        return self.statuses[ON_TIME] + self.statuses[LATE] + self.statuses[OVERDUE]

    @property
    def on_time_percent(self):
        due = self.outcomes_due
        return round(100 * self.statuses[ON_TIME] / due, 1) if due else None


@dataclass
class Accountability:
    """The whole record at one moment: the table per entity and every closed consultation."""

    now: datetime
    entities: list
    consultations: list

    @property
    def totals(self):
        total = EntityRecord(entity=None)
        for row in self.entities:
            total.items_held += row.items_held
            total.turnouts += row.turnouts
            for status, n in row.statuses.items():
                total.statuses[status] += n
        return total


def build(now, entity=None):
    """The record of one entity, or of the whole government, as the clock says at `now`. Three queries."""
    rows = closed_items(now, entity)
    figures = took_part(rows)
    entities = {entity.pk: entity} if entity is not None else Entity.objects.in_bulk()
    table = {}
    consultations = []
    for row in rows:
        owner = entities[row["entity_id"]]
        record = table.setdefault(owner.pk, EntityRecord(entity=owner))
        record.items_held += 1
        if row["pk"] in figures:
            record.turnouts.append(figures[row["pk"]])
        if row["kind"] != Kind.CONSULTATION:
            continue
        due = outcome_due(row)
        status = outcome_status(due, row["outcome_published_at"], now)
        record.statuses[status] += 1
        published = row["outcome_published_at"] is not None
        consultations.append(
            ConsultationRecord(
                pk=row["pk"],
                entity=owner,
                slug=row["slug"],
                title_ar=row["title_ar"],
                title_en=row["title_en"],
                closes_at=row["closes_at"],
                outcome_due=due,
                outcome_published_at=row["outcome_published_at"],
                status=status,
                took_part=figures.get(row["pk"], 0),
                # What changed is public only once the ministry has published its outcome.
                changed_ar=row["outcome_changed_ar"] if published else "",
                changed_en=row["outcome_changed_en"] if published else "",
            )
        )
    ordered = sorted(table.values(), key=lambda record: (record.entity.name_en.casefold(), record.entity.pk))
    return Accountability(now=now, entities=ordered, consultations=consultations)


# -- open data: the same record as rows ---------------------------------------------------------

ENTITIES_HEADER = [
    "entity",
    "entity_ar",
    "entity_en",
    "items_held",
    "median_took_part",
    "outcomes_due",
    "outcomes_on_time",
    "outcomes_late",
    "outcomes_overdue",
    "outcomes_awaiting",
    "on_time_percent",
    "as_of",
]
CONSULTATIONS_HEADER = [
    "entity",
    "slug",
    "title_ar",
    "title_en",
    "closed_at",
    "took_part",
    "outcome_due",
    "outcome_published_at",
    "outcome_status",
    "what_changed_ar",
    "what_changed_en",
    "as_of",
]


def entity_rows(record):
    for row in record.entities:
        median = row.median_turnout
        yield [
            row.entity.slug,
            row.entity.name_ar,
            row.entity.name_en,
            row.items_held,
            median,
            row.outcomes_due,
            row.statuses[ON_TIME],
            row.statuses[LATE],
            row.statuses[OVERDUE],
            row.statuses[AWAITING],
            row.on_time_percent,
            record.now,
        ]


def consultation_rows(record):
    for row in record.consultations:
        yield [
            row.entity.slug,
            row.slug,
            row.title_ar,
            row.title_en,
            row.closes_at,
            row.took_part,
            row.outcome_due,
            row.outcome_published_at,
            row.status,
            row.changed_ar,
            row.changed_en,
            record.now,
        ]
