"""People who use the portal: e-mail login, segment, personas, identity."""

import re

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Segment(models.TextChoices):
    VISITOR = "visitor", _("Visitor")
    CITIZEN = "citizen", _("Citizen")
    RESIDENT = "resident", _("Resident")


class Persona(models.TextChoices):
    STUDENT = "student", _("Student")
    TOURIST = "tourist", _("Tourist")
    BUSINESS_OWNER = "business_owner", _("Business owner")
    PARENT = "parent", _("Parent")
    EMPLOYEE = "employee", _("Employee")


# The seed's audience picker: which personas belong to which segment.
PERSONAS_BY_SEGMENT = {
    Segment.VISITOR: (Persona.STUDENT, Persona.TOURIST, Persona.BUSINESS_OWNER),
    Segment.CITIZEN: (Persona.PARENT, Persona.BUSINESS_OWNER, Persona.EMPLOYEE),
    Segment.RESIDENT: (Persona.PARENT, Persona.EMPLOYEE),
}

# One boolean column per persona, so that the database can refuse a
# combination outside PERSONAS_BY_SEGMENT and queries can filter on it.
PERSONA_FIELDS = {persona: f"is_{persona.value}" for persona in Persona}

QATAR_ID_RE = re.compile(r"^[23][0-9]{10}$")
PASSPORT_RE = re.compile(r"^[A-Z0-9]{6,9}$")
QATARI_NATIONALITY_CODE = "634"
# Everything that says where a person's identity check stands; saved together.
VERIFICATION_FIELDS = [
    "verification",
    "verification_method",
    "verified_at",
    "verification_note",
    "verification_requested_at",
]


def personas_allowed(segment):
    return PERSONAS_BY_SEGMENT.get(segment, ())


def validate_identity_number(segment, number):
    """Check an identity number against the segment; raise ValidationError.

    Citizens and residents give their Qatar ID: 11 digits, the first 2 or 3
    (century of birth), then two digits of the birth year, then the three-digit
    ISO nationality code (634 for Qatari citizens), then a serial. Visitors give
    a passport number: 6 to 9 capital letters or digits.
    """
    if segment in (Segment.CITIZEN, Segment.RESIDENT):
        if not QATAR_ID_RE.match(number or ""):
            raise ValidationError(_("A Qatar ID number has 11 digits and starts with 2 or 3."), code="qatar_id_format")
        is_qatari = number[3:6] == QATARI_NATIONALITY_CODE
        if segment == Segment.CITIZEN and not is_qatari:
            raise ValidationError(
                _("This Qatar ID number belongs to a resident, not a citizen. Choose “Resident”."),
                code="qatar_id_not_citizen",
            )
        if segment == Segment.RESIDENT and is_qatari:
            raise ValidationError(
                _("This Qatar ID number belongs to a citizen, not a resident. Choose “Citizen”."),
                code="qatar_id_not_resident",
            )
    elif segment == Segment.VISITOR and not PASSPORT_RE.match(number or ""):
        raise ValidationError(
            _("A passport number has 6 to 9 capital letters or digits, with no spaces."),
            code="passport_format",
        )


def _persona_constraints():
    constraints = []
    for segment in Segment:
        forbidden = [p for p in Persona if p not in PERSONAS_BY_SEGMENT[segment]]
        any_forbidden = Q()
        for persona in forbidden:
            any_forbidden |= Q(**{PERSONA_FIELDS[persona]: True})
        constraints.append(
            models.CheckConstraint(
                condition=~(Q(segment=segment.value) & any_forbidden),
                name=f"personas_fit_segment_{segment.value}",
            )
        )
    no_segment_personas = Q()
    for persona in Persona:
        no_segment_personas |= Q(**{PERSONA_FIELDS[persona]: True})
    constraints.append(
        models.CheckConstraint(condition=~(Q(segment="") & no_segment_personas), name="no_personas_without_segment")
    )
    return constraints


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Not accepted")

    class VerificationMethod(models.TextChoices):
        NONE = "", _("None")
        STAFF = "staff", _("Checked by staff")
        NATIONAL_SSO = "national_sso", _("National single sign-on")

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices, blank=True)
    is_student = models.BooleanField(_("student"), default=False)
    is_tourist = models.BooleanField(_("tourist"), default=False)
    is_business_owner = models.BooleanField(_("business owner"), default=False)
    is_parent = models.BooleanField(_("parent"), default=False)
    is_employee = models.BooleanField(_("employee"), default=False)
    identity_number = models.CharField(
        _("identity number"),
        max_length=11,
        blank=True,
        help_text=_("Qatar ID for citizens and residents; passport number for visitors."),
    )
    verification = models.CharField(
        _("identity verification"), max_length=12, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verification_method = models.CharField(
        _("verified by"), max_length=12, choices=VerificationMethod.choices, blank=True
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_requested_at = models.DateTimeField(
        _("waiting for verification since"),
        null=True,
        blank=True,
        help_text=_("When the person gave the identity number that staff now have to check."),
    )
    verification_note = models.CharField(
        _("reason not accepted"),
        max_length=500,
        blank=True,
        help_text=_("Shown to the person; written by the verifier."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=[("ar", _("Arabic")), ("en", _("English"))], default="ar"
    )
    notify_new_items = models.BooleanField(
        _("e-mail me when a consultation, poll or referendum opens for me"), default=False
    )
    notify_results = models.BooleanField(_("e-mail me the results of what I took part in"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            *_persona_constraints(),
            models.UniqueConstraint(
                fields=["identity_number"], condition=~Q(identity_number=""), name="unique_identity_number"
            ),
            models.CheckConstraint(
                condition=(Q(verification="verified") & Q(verified_at__isnull=False) & ~Q(identity_number=""))
                | (Q(verification="unverified") & Q(verified_at__isnull=True))
                | (Q(verification="rejected") & Q(verified_at__isnull=True) & ~Q(verification_note="")),
                name="verified_has_date_and_identity",
            ),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def personas(self):
        return [persona for persona, field in PERSONA_FIELDS.items() if getattr(self, field)]

    @personas.setter
    def personas(self, values):
        chosen = {Persona(value) for value in values}
        for persona, field in PERSONA_FIELDS.items():
            setattr(self, field, persona in chosen)

    def get_personas_display(self):
        return [persona.label for persona in self.personas]

    @property
    def is_verified(self):
        return self.verification == self.Verification.VERIFIED

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        errors = {}
        outside = [p for p in self.personas if p not in personas_allowed(self.segment)]
        if outside:
            errors["segment"] = persona_error(self.segment, outside)
        if self.identity_number:
            try:
                validate_identity_number(self.segment, self.identity_number)
            except ValidationError as exc:
                errors["identity_number"] = exc
        if errors:
            raise ValidationError(errors)

    @property
    def awaits_verification(self):
        """In the verifiers' queue: a number to check, not verified, not turned down (AWAITS_VERIFICATION)."""
        return self.verification == self.Verification.UNVERIFIED and bool(self.identity_number)

    @property
    def verification_status(self):
        # accounts.verification imports this module's models: a module-level import would be a cycle.
        from .verification import status_for

        return status_for(self)

    def mark_verified(self, method):
        self.verification = self.Verification.VERIFIED
        self.verification_method = method
        self.verified_at = timezone.now()
        self.verification_note = ""

    def mark_rejected(self, reason):
        self.verification = self.Verification.REJECTED
        self.verification_method = ""
        self.verified_at = None
        self.verification_note = reason

    def reset_verification(self):
        """Back to "to be checked" (a changed number or segment): the queue's clock starts again."""
        self.verification = self.Verification.UNVERIFIED
        self.verification_method = ""
        self.verified_at = None
        self.verification_note = ""
        self.verification_requested_at = timezone.now() if self.identity_number else None


# The verifiers' queue as a filter: the same rule as User.awaits_verification, for querysets.
AWAITS_VERIFICATION = Q(verification=User.Verification.UNVERIFIED) & ~Q(identity_number="")


def persona_error(segment, personas):
    if not segment:
        return ValidationError(_("Choose who you are before choosing what describes you."), code="persona_no_segment")
    return ValidationError(
        _("“%(persona)s” does not go with “%(segment)s”. Choose from: %(allowed)s.")
        % {
            "persona": personas[0].label,
            "segment": Segment(segment).label,
            "allowed": " / ".join(str(p.label) for p in personas_allowed(segment)),
        },
        code="persona_outside_segment",
    )


class IdentityClaim(models.Model):
    """ "Identity number claimed by two accounts": a sign-up gave a number that another account holds.

    Sign-up never says that a number is registered (that would tell anyone whose ID has an account).
    The new account is created without the number, unverified, and this case goes to staff, who
    contact both people and decide: the number moves to the new account (the holder loses it and its
    verification), or stays where it is. A person whose ID was taken by someone else's unverified
    account has a way forward, and nobody learns from the sign-up form who is registered.
    """

    class Resolution(models.TextChoices):
        OPEN = "", pgettext_lazy("identity claim", "Open")
        GIVEN_TO_CLAIMANT = "given", _("Number given to the new account")
        KEPT_BY_HOLDER = "kept", _("Number left with the existing account")

    identity_number = models.CharField(_("identity number"), max_length=11)
    claimant = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="identity_claims", verbose_name=_("new account (claimant)")
    )
    holder = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="identity_claims_against",
        verbose_name=_("existing account (holder)"),
    )
    created_at = models.DateTimeField(_("claimed at"), default=timezone.now, db_index=True)
    resolution = models.CharField(_("resolution"), max_length=5, choices=Resolution.choices, blank=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("resolved by")
    )

    class Meta:
        verbose_name = _("identity number claimed by two accounts")
        verbose_name_plural = _("identity numbers claimed by two accounts")
        ordering = ["resolution", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(resolution="") & Q(resolved_at__isnull=True) & Q(resolved_by__isnull=True))
                | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="identity_claim_resolved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(resolution__in=["", "given", "kept"]), name="identity_claim_resolution_known"
            ),
            models.CheckConstraint(condition=~Q(claimant=models.F("holder")), name="identity_claim_two_accounts"),
            models.UniqueConstraint(
                fields=["claimant", "identity_number"],
                condition=Q(resolution=""),
                name="one_open_identity_claim_per_claimant",
            ),
        ]

    def __str__(self):
        return f"{self.identity_number}: {self.claimant}"

    @property
    def is_open(self):
        return self.resolution == self.Resolution.OPEN


class PendingVerification(User):
    """The verifiers' queue in the admin: people whose identity number waits for a check."""

    class Meta:
        proxy = True
        verbose_name = _("identity to verify")
        verbose_name_plural = _("identities to verify")


class VerificationDecision(models.Model):
    """A verifier's decision on one person's identity, and whether the person has been e-mailed about it.

    The row is written with the change of the person's record and its audit entry, in one transaction;
    `notified_at` stays empty until the e-mail has gone, so a mail server that was down is retried
    (accounts.verification.send_pending_decision_emails, run by close_due and beat).
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Verified")
        REJECTED = "rejected", _("Not accepted")

    person = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="verification_decisions", verbose_name=_("person")
    )
    outcome = models.CharField(_("decision"), max_length=8, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now, db_index=True)
    notified_at = models.DateTimeField(_("person e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification decision")
        verbose_name_plural = _("verification decisions")
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="approved") | (Q(outcome="rejected") & ~Q(reason="")),
                name="rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["approved", "rejected"]), name="verification_outcome_known"
            ),
            # Nobody vouches for their own identity, whatever the screen offers.
            models.CheckConstraint(condition=~Q(person=F("decided_by")), name="verification_not_by_the_person"),
        ]

    def __str__(self):
        return f"{self.person}: {self.get_outcome_display()}"
