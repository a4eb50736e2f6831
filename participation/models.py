"""E-participation: entities, consultations, polls, referendums, ballots and page feedback."""

import base64
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Persona, Segment

from .bilingual import Bilingual
from .validators import validate_pdf, validate_single_line

FEEDBACK_TEXT_MAX = 500

# Lets constraints say `field__length__lte=N`, so the database holds length limits too.
models.TextField.register_lookup(Length)
models.CharField.register_lookup(Length)
models.BinaryField.register_lookup(Length)


def single_line_constraint(*fields, name):
    """The database's share of validate_single_line: no CR or LF in these columns.

    Two LIKE tests per column are cheap on both databases; the model validator refuses the
    other control characters before a row gets here.
    """
    condition = Q()
    for field in fields:
        for char in ("\r", "\n"):
            condition &= ~Q(**{f"{field}__contains": char})
    return models.CheckConstraint(condition=condition, name=name)


class PageFeedback(models.Model):
    """One answer to "Is this easy to understand?". No personal data is kept."""

    class Reason(models.TextChoices):
        UNCLEAR = "unclear", _("The wording is hard to follow")
        MISSING = "missing", _("Information I need is missing")
        WRONG = "wrong", _("Something is wrong or out of date")
        TECHNICAL = "technical", _("The page does not work properly")
        OTHER = "other", _("Something else")

    path = models.CharField(_("page"), max_length=255, db_index=True)
    language = models.CharField(_("language"), max_length=2, choices=[("ar", _("Arabic")), ("en", _("English"))])
    is_easy = models.BooleanField(_("easy to understand"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, blank=True)
    reason_text = models.TextField(_("in their words"), max_length=FEEDBACK_TEXT_MAX, blank=True)
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("page feedback")
        verbose_name_plural = _("page feedback")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_easy=False) | (Q(reason="") & Q(reason_text="")), name="feedback_reason_only_after_no"
            ),
            models.CheckConstraint(
                condition=Q(reason_text__length__lte=FEEDBACK_TEXT_MAX), name="feedback_text_max_length"
            ),
            models.CheckConstraint(condition=Q(language__in=["ar", "en"]), name="feedback_language_known"),
        ]

    def __str__(self):
        return f"{self.path} ({'yes' if self.is_easy else 'no'})"



# ---------------------------------------------------------------------------
# Government entities and participation items
# ---------------------------------------------------------------------------


class Entity(models.Model):
    """A ministry or agency that publishes consultations, polls and referendums."""

    name_ar = models.CharField(_("name (Arabic)"), max_length=200, validators=[validate_single_line])
    name_en = models.CharField(_("name (English)"), max_length=200, validators=[validate_single_line])
    slug = models.SlugField(_("slug"), unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="entities", blank=True, verbose_name=_("staff members")
    )

    name = Bilingual()

    class Meta:
        verbose_name = _("government entity")
        verbose_name_plural = _("government entities")
        ordering = ["name_en"]
        constraints = [single_line_constraint("name_ar", "name_en", name="entity_name_single_line")]

    def __str__(self):
        return self.name


class Kind(models.TextChoices):
    POLL = "poll", _("Poll")
    REFERENDUM = "referendum", _("Referendum")
    CONSULTATION = "consultation", _("Consultation")


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    PUBLISHED = "published", _("Results published")


# States in which the clock, not the stored value, says whether an item is open.
LIVE_STATES = (State.SCHEDULED, State.OPEN)
FINISHED_STATES = (State.CLOSED, State.PUBLISHED)

AUDIENCE_FIELDS = {Segment.VISITOR: "for_visitors", Segment.CITIZEN: "for_citizens", Segment.RESIDENT: "for_residents"}
ITEM_PERSONA_FIELDS = {persona: f"only_{persona.value}s" for persona in Persona}
BILINGUAL_REQUIRED = ("title", "summary", "body")
DEFAULT_OUTCOME_DELAY = timedelta(weeks=12)


class ItemQuerySet(models.QuerySet):
    """Time queries: open, upcoming and closed follow from the clock."""

    def public(self):
        return self.exclude(state=State.DRAFT)

    def open(self, now=None):
        now = now or timezone.now()
        return self.filter(state__in=LIVE_STATES, opens_at__lte=now, closes_at__gt=now)

    def upcoming(self, now=None):
        now = now or timezone.now()
        return self.filter(state__in=LIVE_STATES, opens_at__gt=now)

    def closed(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(state__in=FINISHED_STATES) | Q(state__in=LIVE_STATES, closes_at__lte=now))

    def for_audience(self, segment=None, persona=None):
        """Items that a segment (and, optionally, a persona within it) may take part in."""
        query = Q()
        if segment:
            query &= Q(**{AUDIENCE_FIELDS[Segment(segment)]: True})
        if persona:
            no_persona_limit = Q(**dict.fromkeys(ITEM_PERSONA_FIELDS.values(), False))
            query &= no_persona_limit | Q(**{ITEM_PERSONA_FIELDS[Persona(persona)]: True})
        return self.filter(query)


class Item(models.Model):
    """A consultation, poll or referendum. Type-specific behaviour lives in the proxies below."""

    proxy_kind = None  # set by the Poll, Referendum and Consultation proxies; save() copies it into `kind`

    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, editable=False)
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="items", verbose_name=_("entity"))
    slug = models.SlugField(_("slug"), max_length=80, unique=True, allow_unicode=False)
    title_ar = models.CharField(_("title (Arabic)"), max_length=200, blank=True, validators=[validate_single_line])
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True, validators=[validate_single_line])
    summary_ar = models.TextField(_("summary (Arabic)"), max_length=600, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=600, blank=True)
    body_ar = models.TextField(_("body (Arabic)"), blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)

    for_visitors = models.BooleanField(_("visitors may take part"), default=False)
    for_citizens = models.BooleanField(_("citizens may take part"), default=True)
    for_residents = models.BooleanField(_("residents may take part"), default=True)
    only_students = models.BooleanField(_("students"), default=False)
    only_tourists = models.BooleanField(_("tourists"), default=False)
    only_business_owners = models.BooleanField(_("business owners"), default=False)
    only_parents = models.BooleanField(_("parents"), default=False)
    only_employees = models.BooleanField(_("employees"), default=False)
    requires_verified_identity = models.BooleanField(_("verified identity required"), default=False)

    # Polls
    live_results = models.BooleanField(
        _("show results while open"), default=False, help_text=_("Polls only. Referendum results are never shown before closing.")
    )
    # Referendums
    results_need_approval = models.BooleanField(
        _("a ministry admin approves the results before they are published"),
        default=False,
        help_text=_("Referendums only. Otherwise results and receipts are published as soon as they are counted."),
    )
    # Consultations
    moderate_before_publishing = models.BooleanField(
        _("moderate comments before they appear"),
        default=True,
        help_text=_("Consultations only. If off, comments appear at once and moderators may hide them later."),
    )
    attachment = models.FileField(
        _("draft document (PDF)"), upload_to="consultations/%Y/", blank=True, validators=[validate_pdf]
    )
    outcome_due_at = models.DateTimeField(
        _("outcome due"), null=True, blank=True, help_text=_("By default 12 weeks after closing.")
    )
    outcome_heard_ar = models.TextField(_("what we heard (Arabic)"), blank=True)
    outcome_heard_en = models.TextField(_("what we heard (English)"), blank=True)
    outcome_changed_ar = models.TextField(_("what we changed (Arabic)"), blank=True)
    outcome_changed_en = models.TextField(_("what we changed (English)"), blank=True)
    outcome_published_at = models.DateTimeField(_("outcome published at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"), null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ItemQuerySet.as_manager()

    title = Bilingual()
    summary = Bilingual()
    body = Bilingual()
    outcome_heard = Bilingual()
    outcome_changed = Bilingual()

    class Meta:
        verbose_name = _("participation item")
        verbose_name_plural = _("participation items")
        ordering = ["closes_at", "pk"]
        permissions = [
            ("view_all_entities", _("Can see the items of every entity")),
            ("schedule_item", _("Can schedule, close and publish items")),
            ("moderate_comment", _("Can approve and hide comments")),
            ("export_results", _("Can download results, ballots and registers (auditors)")),
        ]
        indexes = [models.Index(fields=["state", "opens_at", "closes_at"], name="item_state_clock")]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="item_closes_after_opening"),
            models.CheckConstraint(
                condition=Q(for_visitors=True) | Q(for_citizens=True) | Q(for_residents=True),
                name="item_has_an_audience",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.REFERENDUM) | Q(requires_verified_identity=True),
                name="referendum_requires_verified_identity",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.REFERENDUM) | Q(live_results=False), name="referendum_no_live_results"
            ),
            models.CheckConstraint(
                condition=Q(state=State.DRAFT)
                | (
                    ~Q(title_ar="") & ~Q(title_en="") & ~Q(summary_ar="") & ~Q(summary_en="")
                    & ~Q(body_ar="") & ~Q(body_en="")
                ),
                name="item_bilingual_before_scheduling",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[Kind.POLL, Kind.REFERENDUM, Kind.CONSULTATION]), name="item_kind_known"
            ),
            single_line_constraint("title_ar", "title_en", name="item_title_single_line"),
            # A consultation's outcome is published with what was heard and what changed, in both languages.
            models.CheckConstraint(
                condition=~Q(kind=Kind.CONSULTATION)
                | ~Q(state=State.PUBLISHED)
                | (
                    ~Q(outcome_heard_ar="") & ~Q(outcome_heard_en="") & ~Q(outcome_changed_ar="")
                    & ~Q(outcome_changed_en="") & Q(outcome_published_at__isnull=False)
                ),
                name="consultation_outcome_before_publishing",
            ),
        ]

    def __str__(self):
        return self.title or self.slug

    # -- the clock ---------------------------------------------------------
    def current_state(self, now=None):
        """The state as the clock tells it: a scheduled item past opens_at is open, and so on."""
        if self.state not in LIVE_STATES:
            return self.state
        now = now or timezone.now()
        if now < self.opens_at:
            return State.SCHEDULED
        if now >= self.closes_at:
            return State.CLOSED
        return State.OPEN

    def is_open(self, now=None):
        return self.current_state(now) == State.OPEN

    def has_closed(self, now=None):
        return self.current_state(now) in FINISHED_STATES

    # -- audiences ---------------------------------------------------------
    @property
    def segments(self):
        return [segment for segment, field in AUDIENCE_FIELDS.items() if getattr(self, field)]

    @property
    def personas(self):
        return [persona for persona, field in ITEM_PERSONA_FIELDS.items() if getattr(self, field)]

    def missing_translations(self):
        """Names of the bilingual fields still empty in either language."""
        return [
            f"{name}_{lang}" for name in BILINGUAL_REQUIRED for lang in ("ar", "en") if not getattr(self, f"{name}_{lang}").strip()
        ]

    # -- outcome (consultations) ------------------------------------------
    def outcome_due(self):
        return self.outcome_due_at or self.closes_at + DEFAULT_OUTCOME_DELAY

    def outcome_overdue(self, now=None):
        return (
            self.kind == Kind.CONSULTATION
            and self.outcome_published_at is None
            and (now or timezone.now()) > self.outcome_due()
        )

    def get_absolute_url(self):
        return reverse(f"participation:{self.kind}_detail", kwargs={"slug": self.slug})

    def get_results_url(self):
        if self.kind == Kind.CONSULTATION:
            return reverse("participation:consultation_outcome", kwargs={"slug": self.slug})
        return reverse(f"participation:{self.kind}_results", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The closing time must be after the opening time.")
        if not (self.for_visitors or self.for_citizens or self.for_residents):
            errors["for_citizens"] = _("Choose at least one group of people who may take part.")
        if self.state != State.DRAFT:
            # On the empty fields themselves: "state" is not an editable field anywhere.
            for name in self.missing_translations():
                errors[name] = _("A scheduled item needs this text in both Arabic and English.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if not self.kind and self.proxy_kind:
            self.kind = self.proxy_kind
        if self.kind == Kind.REFERENDUM:
            self.requires_verified_identity = True
            self.live_results = False
        super().save(*args, **kwargs)


class KindManager(models.Manager.from_queryset(ItemQuerySet)):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def get_queryset(self):
        return super().get_queryset().filter(kind=self.kind)


class Poll(Item):
    proxy_kind = Kind.POLL
    objects = KindManager(Kind.POLL)

    class Meta:
        proxy = True
        verbose_name = _("poll")
        verbose_name_plural = _("polls")


class Referendum(Item):
    proxy_kind = Kind.REFERENDUM
    objects = KindManager(Kind.REFERENDUM)

    class Meta:
        proxy = True
        verbose_name = _("referendum")
        verbose_name_plural = _("referendums")


class Consultation(Item):
    proxy_kind = Kind.CONSULTATION
    objects = KindManager(Kind.CONSULTATION)

    class Meta:
        proxy = True
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")


# ---------------------------------------------------------------------------
# Questions and options (polls and referendums)
# ---------------------------------------------------------------------------

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_REFERENDUM_OPTIONS = 5


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="questions", verbose_name=_("item"))
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    text_ar = models.CharField(_("question (Arabic)"), max_length=300, validators=[validate_single_line])
    text_en = models.CharField(_("question (English)"), max_length=300, validators=[validate_single_line])
    kind = models.CharField(_("answer type"), max_length=8, choices=Kind.choices, default=Kind.SINGLE)
    min_choices = models.PositiveSmallIntegerField(_("minimum selections"), default=1)
    max_choices = models.PositiveSmallIntegerField(_("maximum selections"), default=1)
    allow_abstain = models.BooleanField(
        _("offer “no opinion”"), default=False, help_text=_("For referendums, this is the blank vote.")
    )

    text = Bilingual()

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="question_position_unique"),
            models.CheckConstraint(condition=Q(min_choices__gte=1), name="question_min_at_least_one"),
            models.CheckConstraint(condition=Q(max_choices__gte=F("min_choices")), name="question_max_not_below_min"),
            models.CheckConstraint(
                condition=~Q(kind="single") | (Q(min_choices=1) & Q(max_choices=1)), name="question_single_is_one"
            ),
            models.CheckConstraint(condition=Q(max_choices__lte=MAX_OPTIONS), name="question_max_choices_bounded"),
            single_line_constraint("text_ar", "text_en", name="question_text_single_line"),
        ]

    def __str__(self):
        return self.text

    @property
    def is_multiple(self):
        return self.kind == self.Kind.MULTIPLE

    def clean(self):
        super().clean()
        if self.kind == self.Kind.SINGLE:
            self.min_choices = self.max_choices = 1
        elif self.max_choices < self.min_choices:
            raise ValidationError({"max_choices": _("The maximum cannot be smaller than the minimum.")})


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options", verbose_name=_("question"))
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    text_ar = models.CharField(_("option (Arabic)"), max_length=200, validators=[validate_single_line])
    text_en = models.CharField(_("option (English)"), max_length=200, validators=[validate_single_line])

    text = Bilingual()

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="option_position_unique"),
            single_line_constraint("text_ar", "text_en", name="option_text_single_line"),
        ]

    def __str__(self):
        return self.text


# ---------------------------------------------------------------------------
# Ballots
# ---------------------------------------------------------------------------


class PollBallot(models.Model):
    """One person's ballot in a poll. Segment and personas are copied for the breakdown."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="poll_ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="poll_ballots")
    segment = models.CharField(max_length=10, choices=Segment.choices)
    is_student = models.BooleanField(default=False)
    is_tourist = models.BooleanField(default=False)
    is_business_owner = models.BooleanField(default=False)
    is_parent = models.BooleanField(default=False)
    is_employee = models.BooleanField(default=False)
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("poll ballot")
        verbose_name_plural = _("poll ballots")
        constraints = [models.UniqueConstraint(fields=["item", "voter"], name="one_poll_ballot_per_voter")]


class PollAnswer(models.Model):
    """One selected option (or "no opinion", option empty) of one question in a poll ballot."""

    ballot = models.ForeignKey(PollBallot, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="poll_answers")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="poll_answers", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option"], name="poll_answer_option_once"),
            models.UniqueConstraint(
                fields=["ballot", "question"], condition=Q(option__isnull=True), name="poll_answer_abstain_once"
            ),
        ]


class ReferendumParticipation(models.Model):
    """Who took part in a referendum, and on which day; never what they chose."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="referendum_participations")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referendum_participations")
    segment = models.CharField(max_length=10, choices=Segment.choices)
    voted_on = models.DateField()

    class Meta:
        verbose_name = _("referendum participation")
        verbose_name_plural = _("referendum participations")
        constraints = [models.UniqueConstraint(fields=["item", "voter"], name="one_referendum_ballot_per_voter")]


def group_receipt(raw):
    """Receipts are shown in groups of four characters, easy to read aloud and to copy."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_receipt_code():
    """A random receipt: 128 bits as 26 base32 characters, e.g. ABCD-EFGH-…-WX."""
    return group_receipt(base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("="))


class SealedBallot(models.Model):
    """A referendum ballot in the sealed box, from the vote until the tally (participation/ballot_box.py).

    Written in the vote's transaction beside the participation, so it shares
    that row's xmin and physical neighbourhood: hence nothing in it is
    readable. The option, receipt and segment are one AES-256-GCM ciphertext
    of fixed length under a key that is not in the database; the key is random.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="sealed_ballots")
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField(max_length=80)

    class Meta:
        verbose_name = _("sealed referendum ballot")
        verbose_name_plural = _("sealed referendum ballots")
        constraints = [
            models.CheckConstraint(condition=Q(nonce__length=12), name="sealed_ballot_nonce_96_bits"),
            # 64 bytes of plaintext and a 16-byte tag: every ciphertext has the same length.
            models.CheckConstraint(condition=Q(ciphertext__length=80), name="sealed_ballot_fixed_length"),
        ]


class ReferendumBallot(models.Model):
    """What was chosen in a referendum: an option (or blank) and a receipt code.

    Written only by the tally, which opens the sealed box and writes these in
    shuffled order in a transaction without any participation. Nothing here
    leads to a person: a random primary key, no user, no time, no segment, no
    link to ReferendumParticipation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="referendum_ballots")
    # No index of its own: nothing looks ballots up by option, and the tally writes a million rows at once
    # (each index costs it; docs/performance.md). The foreign key stays.
    option = models.ForeignKey(
        Option, on_delete=models.PROTECT, related_name="referendum_ballots", null=True, blank=True, db_index=False
    )
    receipt = models.CharField(max_length=32, default=new_receipt_code)

    class Meta:
        verbose_name = _("referendum ballot")
        verbose_name_plural = _("referendum ballots")
        ordering = ["receipt"]
        # A constraint rather than unique=True: the same unique index, without the varchar_pattern_ops
        # (LIKE) index Django adds beside a unique CharField, which no query uses.
        constraints = [models.UniqueConstraint(fields=["receipt"], name="referendum_ballot_receipt_unique")]


# ---------------------------------------------------------------------------
# Consultations: sections, comments, agree/disagree
# ---------------------------------------------------------------------------

COMMENT_MAX = 2000


class Section(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="sections", verbose_name=_("consultation"))
    number = models.PositiveSmallIntegerField(_("number"))
    heading_ar = models.CharField(_("heading (Arabic)"), max_length=200, validators=[validate_single_line])
    heading_en = models.CharField(_("heading (English)"), max_length=200, validators=[validate_single_line])
    body_ar = models.TextField(_("text (Arabic)"))
    body_en = models.TextField(_("text (English)"))

    heading = Bilingual()
    body = Bilingual()

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="section_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="section_number_positive"),
            single_line_constraint("heading_ar", "heading_en", name="section_heading_single_line"),
        ]

    def __str__(self):
        return f"{self.number}. {self.heading}"


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden")

    # PROTECT: a published comment is part of the public record; removing its section or item must not take it along.
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="comments", verbose_name=_("consultation"))
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="comments", null=True, blank=True, verbose_name=_("section")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments", verbose_name=_("author")
    )
    body = models.TextField(_("comment"), max_length=COMMENT_MAX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    moderation_reason = models.CharField(_("reason"), max_length=300, blank=True, validators=[validate_single_line])
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name=_("moderated by"),
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(status="hidden") | ~Q(moderation_reason=""), name="hidden_comment_has_reason"),
            models.CheckConstraint(condition=Q(body__length__lte=COMMENT_MAX), name="comment_length_bounded"),
            single_line_constraint("moderation_reason", name="comment_reason_single_line"),
        ]

    def __str__(self):
        return self.body[:60]


class SectionReaction(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="section_reactions")
    agrees = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["section", "user"], name="one_reaction_per_section")]


# ---------------------------------------------------------------------------
# Frozen content and corrections
# ---------------------------------------------------------------------------

# What people saw when they took part: locked from the moment an item opens
# (migration 0012_frozen_content holds the same list in its triggers).
FROZEN_ITEM_FIELDS = (
    "title_ar", "title_en", "summary_ar", "summary_en", "body_ar", "body_en", "attachment",
    *AUDIENCE_FIELDS.values(), *ITEM_PERSONA_FIELDS.values(), "requires_verified_identity",
)
OPENED_STATES = (State.OPEN, State.CLOSED, State.PUBLISHED)


def content_frozen(item, now=None):
    """True once the item has opened: its content, sections, questions, options and audience are locked.

    The database triggers ask the same question with the database's clock:
    state open, closed or published, or scheduled with opens_at passed.
    """
    if item is None or item.pk is None:
        return False
    if item.state in OPENED_STATES:
        return True
    return item.state == State.SCHEDULED and item.opens_at <= (now or timezone.now())


class ItemCorrection(models.Model):
    """A dated public note that corrects an item after it opened; the item's text itself stays as people saw it.

    Append-only: the database refuses UPDATE and DELETE (migration 0012_frozen_content).
    """

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("item"))
    note_ar = models.TextField(_("correction (Arabic)"))
    note_en = models.TextField(_("correction (English)"))
    created_at = models.DateTimeField(_("published at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("written by")
    )

    note = Bilingual()

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(note_ar="") & ~Q(note_en=""), name="correction_in_both_languages"
            ),
        ]

    def __str__(self):
        return f"{self.item} ({self.created_at:%Y-%m-%d})"


# ---------------------------------------------------------------------------
# Results and notifications
# ---------------------------------------------------------------------------


class Result(models.Model):
    """The immutable tally of a closed poll or referendum: every page and export reads this.

    `counts` holds per-option votes, totals, turnout and the breakdowns;
    `ballots_digest` is the SHA-256 of the canonical ballot lines (docs/results.md, docs/exports.md).
    Written once: a database trigger refuses any UPDATE or DELETE, even in raw SQL
    (migration 0010), and the same counts and digest are on the audit trail.
    """

    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="result", verbose_name=_("item"))
    tallied_at = models.DateTimeField(_("tallied at"))
    ballots = models.PositiveIntegerField(_("ballots counted"))
    eligible = models.PositiveIntegerField(_("eligible people"))
    counts = models.JSONField(_("counts"))
    ballots_digest = models.CharField(_("ballots digest (SHA-256)"), max_length=64)

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        constraints = [
            models.CheckConstraint(condition=Q(ballots__lte=F("eligible")) | Q(eligible=0), name="result_turnout_bounded"),
            models.CheckConstraint(condition=Q(ballots_digest__length=64), name="result_digest_is_sha256"),
        ]

    def __str__(self):
        return f"{self.item} ({self.tallied_at:%Y-%m-%d %H:%M})"

    @property
    def turnout_percent(self):
        return round(100 * self.ballots / self.eligible, 1) if self.eligible else None

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError("A result is immutable once stored.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A result is immutable once stored.")


class Notification(models.Model):
    """One e-mail sent to one person about one item; makes sending idempotent."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Item opened")
        RESULTS = "results", _("Results published")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user", "kind"], name="notify_once_per_item_and_kind")]


# ---------------------------------------------------------------------------
# Audit trail
# ---------------------------------------------------------------------------


class AuditEntry(models.Model):
    """One staff action, chained by hash to the entry before it. Append-only.

    entry_hash = HMAC-SHA256(audit key, previous_hash + "\\n" + canonical JSON of this
    entry's fields); docs/audit.md gives the exact recipe and verify_audit_log checks it.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")
        STATE = "state", _("State changed")
        MODERATE = "moderate", _("Moderated")
        EXPORT = "export", _("Exported")
        LOGIN = "login", _("Staff log-in")
        VERIFY = "verify", _("Identity verified")
        TALLY = "tally", _("Results counted")

    GENESIS = "0" * 64

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("who")
    )
    actor_label = models.CharField(_("who (as recorded)"), max_length=254)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("entity")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    previous_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(entry_hash__length=64) & Q(previous_hash__length=64), name="audit_hashes_are_sha256"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are append-only.")


# ---------------------------------------------------------------------------
# Outbox
# ---------------------------------------------------------------------------


class OutboxMessage(models.Model):
    """Work owed after a change, written in the same transaction as the change (participation/services/outbox.py).

    One row per item and kind of work: a tally to run, an "opened" or a "results" mailing to send.
    The row commits with the state change that causes it, or not at all, so a broker that is down
    when the change commits loses nothing: beat (or the close_due command) sweeps what is not done.
    The unique key makes recording twice a no-op; who has been e-mailed is kept per person by
    Notification, so a mailing resumed after a crash sends only what is missing.
    """

    class Kind(models.TextChoices):
        TALLY = "tally", _("Results counted")
        OPENED = "opened", _("Item opened")
        RESULTS = "results", _("Results published")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="outbox_messages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker last picked it up; the sweep hands it out again once this is old (outbox.RETRY_AFTER).
    attempted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "kind"], name="outbox_once_per_item_and_kind")]

    def __str__(self):
        return f"{self.kind} {self.item_id} ({'done' if self.done_at else 'pending'})"
