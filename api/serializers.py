"""What the public API returns, field by field. These serializers only read; drf-spectacular builds the schema from them.

Bilingual content is always {"ar": …, "en": …}, whatever language the request asks for.
Nothing here names a person: no author, creator, staff member, voter or identity number.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Persona, Segment
from participation.models import Kind, Question, State

SEGMENTS = [segment.value for segment in Segment]
PERSONAS = [persona.value for persona in Persona]
# The states a reader sees: the clock's answer (Item.current_state); drafts never reach the API.
PUBLIC_STATES = [State.SCHEDULED.value, State.OPEN.value, State.CLOSED.value, State.PUBLISHED.value]


class BilingualSerializer(serializers.Serializer):
    ar = serializers.CharField(help_text="Arabic")
    en = serializers.CharField(help_text="English")


@extend_schema_field(BilingualSerializer)
class BilingualField(serializers.Field):
    """`<name>_ar` and `<name>_en` of the object as {"ar": …, "en": …}."""

    def __init__(self, base=None, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.base = base

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.base = self.base or field_name

    def to_representation(self, value):
        return {"ar": getattr(value, f"{self.base}_ar"), "en": getattr(value, f"{self.base}_en")}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the request's language.")


class ValidationErrorSerializer(serializers.Serializer):
    """400: what was refused and, for query parameters, each one with its messages."""

    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


# ---------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------


class EntitySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = BilingualField()
    items = serializers.SerializerMethodField(help_text="The API address of this entity's items.")

    def get_items(self, entity) -> str:
        return f"/api/v1/items/?entity={entity.slug}"


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------


class AudienceSerializer(serializers.Serializer):
    segments = serializers.ListField(child=serializers.ChoiceField(choices=SEGMENTS), help_text="Who may take part.")
    personas = serializers.ListField(
        child=serializers.ChoiceField(choices=PERSONAS),
        help_text="Empty: everyone in the segments; otherwise only people who describe themselves so.",
    )
    requires_verified_identity = serializers.BooleanField()


class ItemSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    type = serializers.ChoiceField(choices=Kind.values, source="kind")
    entity = serializers.SlugField(source="entity.slug")
    title = BilingualField()
    summary = BilingualField()
    state = serializers.SerializerMethodField(help_text="As the clock tells it now: scheduled, open, closed or published.")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    audience = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField(help_text="The item's page on the portal, in each language.")
    url = serializers.SerializerMethodField(help_text="This item in the API.")

    @extend_schema_field(serializers.ChoiceField(choices=PUBLIC_STATES))
    def get_state(self, item):
        return item.current_state(self.context.get("now"))

    @extend_schema_field(AudienceSerializer)
    def get_audience(self, item):
        return {
            "segments": [segment.value for segment in item.segments],
            "personas": [persona.value for persona in item.personas],
            "requires_verified_identity": item.requires_verified_identity,
        }

    @extend_schema_field(BilingualSerializer)
    def get_page(self, item):
        return {lang: f"/{lang}{_without_language(item.get_absolute_url())}" for lang in ("ar", "en")}

    def get_url(self, item) -> str:
        return f"/api/v1/items/{item.slug}/"


def _without_language(path):
    """/ar/polls/x/ -> /polls/x/: the path after the language prefix that reverse() put there."""
    return "/" + path.lstrip("/").split("/", 1)[1]


class OptionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = BilingualField()


class QuestionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = BilingualField()
    kind = serializers.ChoiceField(choices=Question.Kind.values)
    min_choices = serializers.IntegerField()
    max_choices = serializers.IntegerField()
    allow_abstain = serializers.BooleanField(help_text="“No opinion” (polls) or a blank vote (referendums) is offered.")
    options = OptionSerializer(many=True, source="options.all")


class SectionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    heading = BilingualField()
    body = BilingualField()


class CorrectionSerializer(serializers.Serializer):
    note = BilingualField()
    published_at = serializers.DateTimeField(source="created_at")


class ItemDetailSerializer(ItemSerializer):
    body = BilingualField()
    live_results = serializers.BooleanField(help_text="Polls: results are shown while the poll is open.")
    questions = QuestionSerializer(many=True, source="questions.all", help_text="Polls and referendums; empty for consultations.")
    sections = SectionSerializer(many=True, source="sections.all", help_text="Consultations; empty otherwise.")
    corrections = CorrectionSerializer(many=True, source="corrections.all")
    results = serializers.SerializerMethodField(help_text="Polls and referendums: their results in the API.")
    outcome = serializers.SerializerMethodField(help_text="Consultations: their outcome in the API.")

    def get_results(self, item) -> str | None:
        return None if item.kind == Kind.CONSULTATION else f"/api/v1/items/{item.slug}/results/"

    def get_outcome(self, item) -> str | None:
        return f"/api/v1/items/{item.slug}/outcome/" if item.kind == Kind.CONSULTATION else None


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

RESULT_STATUSES = {
    "not_available": "Not shown yet: the item is not open, or its results are shown only after closing (polls) or publication (referendums).",
    "live": "An open poll with live results: running counts.",
    "counting": "Closed, and the votes are being counted: no result is stored yet.",
    "counted": "The stored result.",
}


class ResultOptionSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="0 for “no opinion” (polls) or a blank vote (referendums).")
    text = BilingualSerializer()
    abstain = serializers.BooleanField()
    votes = serializers.IntegerField()
    percent = serializers.FloatField(help_text="votes ÷ ballots × 100, one decimal.")
    segments = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Votes by segment (stored results only). In referendums null is a cell hidden to protect the secret ballot.",
    )
    personas = serializers.DictField(child=serializers.IntegerField(), help_text="Votes by persona (polls, stored results only).")


class ResultQuestionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = BilingualSerializer()
    multiple = serializers.BooleanField(help_text="Multiple choice: counted per option, not per combination.")
    options = ResultOptionSerializer(many=True)


class TallyAnchorSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The tally's place on the audit trail, from 1.")
    entry_hash = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    checkpoint = serializers.CharField(help_text="position:entry_hash, a checkpoint of the audit trail.")


class DownloadsSerializer(serializers.Serializer):
    ballots_csv = BilingualSerializer(help_text="Every ballot (receipt and choice).")
    result_json = BilingualSerializer(help_text="The result as the standalone verifier reads it.")
    verifier = serializers.CharField(help_text="The standalone verifier (Python 3, standard library only).")


class ResultSerializer(serializers.Serializer):
    item = serializers.SlugField()
    type = serializers.ChoiceField(choices=[Kind.POLL.value, Kind.REFERENDUM.value])
    status = serializers.ChoiceField(
        choices=list(RESULT_STATUSES), help_text=" ".join(f"{key}: {text}" for key, text in RESULT_STATUSES.items())
    )
    ballots = serializers.IntegerField(allow_null=True)
    eligible = serializers.IntegerField(allow_null=True, help_text="Stored results: people who could take part.")
    turnout_percent = serializers.FloatField(allow_null=True)
    tallied_at = serializers.DateTimeField(allow_null=True)
    ballots_digest = serializers.CharField(allow_null=True, help_text="SHA-256 of the canonical ballot lines (docs/exports.md).")
    questions = ResultQuestionSerializer(many=True)
    segment_ballots = serializers.DictField(
        child=serializers.IntegerField(), allow_null=True, help_text="Referendums: ballots per segment."
    )
    small_cell = serializers.IntegerField(allow_null=True, help_text="Referendums: cells under this many ballots are hidden.")
    shown_by_totals = serializers.BooleanField(help_text="Some small cells are shown because the totals already fix them.")
    tally = TallyAnchorSerializer(allow_null=True, help_text="The tally's entry on the audit trail.")
    downloads = DownloadsSerializer(allow_null=True, help_text="Published referendums: the open record.")


class ReceiptSerializer(serializers.Serializer):
    receipt = serializers.CharField()


# ---------------------------------------------------------------------------
# Outcomes and the audit trail
# ---------------------------------------------------------------------------

OUTCOME_STATUSES = ["published", "pending", "overdue"]


class OutcomeSerializer(serializers.Serializer):
    item = serializers.SlugField(source="slug")
    entity = serializers.SlugField(source="entity.slug")
    title = BilingualField()
    closed_at = serializers.DateTimeField(source="closes_at")
    status = serializers.SerializerMethodField(
        help_text="published; pending (not yet, not yet due); overdue (not published and past its due date)."
    )
    due_at = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField(source="outcome_published_at", allow_null=True)
    published_on_time = serializers.SerializerMethodField()
    heard = serializers.SerializerMethodField(help_text="What the ministry heard; null until published.")
    changed = serializers.SerializerMethodField(help_text="What the ministry changed; null until published.")

    @extend_schema_field(serializers.ChoiceField(choices=OUTCOME_STATUSES))
    def get_status(self, item):
        if item.outcome_published_at:
            return "published"
        return "overdue" if item.outcome_overdue(self.context.get("now")) else "pending"

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at(self, item):
        return serializers.DateTimeField().to_representation(item.outcome_due())

    def get_published_on_time(self, item) -> bool | None:
        return None if item.outcome_published_at is None else item.outcome_published_at <= item.outcome_due()

    @extend_schema_field(BilingualSerializer(allow_null=True))
    def get_heard(self, item):
        return {"ar": item.outcome_heard_ar, "en": item.outcome_heard_en} if item.outcome_published_at else None

    @extend_schema_field(BilingualSerializer(allow_null=True))
    def get_changed(self, item):
        return {"ar": item.outcome_changed_ar, "en": item.outcome_changed_en} if item.outcome_published_at else None


class CheckpointSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Entries on the audit trail.")
    head = serializers.CharField(help_text="The last entry's hash.")
    checkpoint = serializers.CharField(help_text="COUNT:HASH, for verify_audit_log --checkpoint.")
    taken_at = serializers.DateTimeField()
