from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from participation import permissions
from participation.admin import FilterGuardMixin, ReadOnlyAdmin, allowed_and_refused, report_skipped
from participation.services import verification as decisions
from participation.signals import AuditedDeletionsMixin
from participation.validators import validate_single_line

from . import claims, verification
from .models import AWAITS_VERIFICATION, IdentityClaim, PendingVerification, User, VerificationDecision

# The national digital identity is configured in settings (no SocialApp rows), tokens are not stored, and a
# linked account's stored claims hold the person's Qatar ID number: none of allauth's social models belong
# in the admin. A person's link shows on their own record (verified by the national digital identity).
for _model in (SocialApp, SocialAccount, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


# Who may decide on a person's identity (participation/permissions.py): the verifiers' role, never on themselves.
DECIDE_VERIFICATION = "accounts.decide_verification"


def approve_each(request, people):
    """Approve each person through services/verification.approve; the number approved (someone already decided is
    skipped, not an error)."""
    done = 0
    for person in people:
        try:
            decisions.approve(request.user, person.pk, request=request)
        except verification.NotAwaitingVerification:
            continue
        done += 1
    return done


class UserCreationForm(DjangoUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


@admin.register(User)
class UserAdmin(FilterGuardMixin, AuditedDeletionsMixin, DjangoUserAdmin):
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "segment", "verification", "is_staff", "date_joined")
    list_filter = ("segment", "verification", "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name", "identity_number")
    readonly_fields = (
        "verification",
        "verification_method",
        "verified_at",
        "verification_requested_at",
        "verification_note",
        "last_login",
        "date_joined",
    )
    actions = ["verify_identity", "reset_identity_verification"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "full_name":
            # The name is one line in e-mails and lists, as in the sign-up and profile forms.
            field.validators.append(validate_single_line)
        return field

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "preferred_language", "notify_new_items")}),
        (
            _("Segment and personas"),
            {"fields": ("segment", ("is_student", "is_tourist", "is_business_owner", "is_parent", "is_employee"))},
        ),
        (
            _("Identity"),
            {
                "fields": (
                    "identity_number",
                    "verification",
                    "verification_method",
                    "verified_at",
                    "verification_requested_at",
                    "verification_note",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    @admin.action(description=_("Mark identity as verified (checked by staff)"), permissions=["change"])
    def verify_identity(self, request, queryset):
        """Each approval goes through services/verification.approve: record, decision, audit entry and e-mail together.

        Only the people decide_verification allows (participation/permissions.py): never the staff member's own."""
        waiting = queryset.filter(AWAITS_VERIFICATION)
        allowed, refused = allowed_and_refused(request.user, DECIDE_VERIFICATION, waiting)
        report_skipped(self, request, refused)
        done = approve_each(request, allowed)
        skipped = queryset.filter(identity_number="").count()
        self.message_user(
            request,
            ngettext("%(count)d identity verified.", "%(count)d identities verified.", done) % {"count": done},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d user has no identity number and was not verified.",
                    "%(count)d users have no identity number and were not verified.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Reset identity verification"), permissions=["change"])
    def reset_identity_verification(self, request, queryset):
        """Each reset and its audit entry, naming the staff member, commit together (one person at a time)."""
        count = 0
        for user in queryset.exclude(verification=User.Verification.UNVERIFIED):
            decisions.reset_verification(request.user, user, "reset by staff", request=request)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d verification reset.", "%(count)d verifications reset.", count) % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        """A changed segment or identity number needs checking again; the reset is on the trail with the change."""
        if change and {"segment", "identity_number"} & set(form.changed_data):
            if obj.verification != User.Verification.UNVERIFIED:
                # The admin's change view runs in one transaction: the reset and its entry commit together.
                decisions.reset_verification(
                    request.user, obj, "segment or identity number changed by staff", request=request, save=False
                )
            else:
                obj.reset_verification()
        super().save_model(request, obj, form, change)


@admin.register(IdentityClaim)
class IdentityClaimAdmin(FilterGuardMixin, admin.ModelAdmin):
    """Cases "identity number claimed by two accounts": both accounts with their dates, and two ways to resolve.

    Nothing is typed in: staff contact both people (by e-mail, from the links to both accounts), then
    choose an action. The cases themselves cannot be added, edited or deleted here.
    """

    list_display = (
        "identity_number",
        "claimant_link",
        "claimant_joined",
        "holder_link",
        "holder_joined",
        "holder_verification",
        "created_at",
        "resolution",
        "resolved_at",
    )
    list_filter = ("resolution", "created_at")
    search_fields = ("identity_number", "claimant__email", "holder__email")
    list_select_related = ("claimant", "holder", "resolved_by")
    date_hierarchy = "created_at"
    actions = ["give_number_to_claimant", "leave_number_with_holder"]
    fields = (*list_display, "resolved_by")
    readonly_fields = fields

    @admin.display(description=_("new account (claimant)"), ordering="claimant__email")
    def claimant_link(self, claim):
        return self._account_link(claim.claimant)

    @admin.display(description=_("new account created"), ordering="claimant__date_joined")
    def claimant_joined(self, claim):
        return claim.claimant.date_joined

    @admin.display(description=_("existing account (holder)"), ordering="holder__email")
    def holder_link(self, claim):
        return self._account_link(claim.holder) if claim.holder else _("(deleted)")

    @admin.display(description=_("existing account created"), ordering="holder__date_joined")
    def holder_joined(self, claim):
        return claim.holder.date_joined if claim.holder else None

    @admin.display(description=_("existing account verified"))
    def holder_verification(self, claim):
        return claim.holder.get_verification_display() if claim.holder else None

    def _account_link(self, user):
        return format_html('<a href="{}">{}</a>', reverse("admin:accounts_user_change", args=[user.pk]), user.email)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _resolve(self, request, queryset, resolution):
        done, skipped = 0, 0
        for claim in queryset.filter(resolution=IdentityClaim.Resolution.OPEN).order_by("created_at"):
            try:
                decisions.resolve_claim(request.user, claim.pk, resolution, request=request)
            except (claims.ClaimAlreadyResolved, claims.NumberHeldElsewhere):
                skipped += 1
            else:
                done += 1
        skipped += queryset.exclude(resolution=IdentityClaim.Resolution.OPEN).count()
        self.message_user(
            request,
            ngettext("%(count)d case resolved.", "%(count)d cases resolved.", done) % {"count": done},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d case was not changed: it was already resolved, or the number is held by another account.",
                    "%(count)d cases were not changed: they were already resolved, or the number is held by another account.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Give the number to the new account (the existing account loses it)"), permissions=["change"]
    )
    def give_number_to_claimant(self, request, queryset):
        self._resolve(request, queryset, IdentityClaim.Resolution.GIVEN_TO_CLAIMANT)

    @admin.action(description=_("Leave the number with the existing account"), permissions=["change"])
    def leave_number_with_holder(self, request, queryset):
        self._resolve(request, queryset, IdentityClaim.Resolution.KEPT_BY_HOLDER)


class VerificationDecisionForm(forms.ModelForm):
    """The verifier's decision on one person: verify, or turn down with a reason the person will read."""

    APPROVE, REJECT = "approve", "reject"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (APPROVE, _("Verify: the identity number and the person match the national records")),
            (REJECT, _("Do not accept: the person must correct something")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (when not accepted)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Written to the person in the e-mail and on their profile: say what to correct."),
        validators=[validate_single_line],
    )

    class Meta:
        model = PendingVerification
        fields = []

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REJECT and not " ".join((cleaned.get("reason") or "").split()):
            self.add_error("reason", _("Say why, so that the person knows what to correct."))
        if not self.instance.awaits_verification:
            raise forms.ValidationError(
                _("This person is no longer waiting for a check: someone decided meanwhile, or the number changed.")
            )
        return cleaned


@admin.register(PendingVerification)
class PendingVerificationAdmin(FilterGuardMixin, admin.ModelAdmin):
    """The verifiers' queue: oldest first; open one person, compare, and decide.

    Each decision goes through accounts.verification (the record, the decision, the audit entry and
    the e-mail to the person); nothing here writes a person's record directly.
    """

    form = VerificationDecisionForm
    list_display = ("full_name", "email", "segment", "identity_number", "verification_requested_at", "expected_by")
    list_display_links = ("full_name", "email")
    list_filter = ("segment",)
    search_fields = ("email", "full_name", "identity_number")
    ordering = ("verification_requested_at", "pk")
    readonly_fields = (
        "full_name",
        "email",
        "segment",
        "identity_number",
        "date_joined",
        "verification_requested_at",
        "expected_by",
    )
    fieldsets = (
        (_("Person"), {"fields": readonly_fields}),
        (_("Decision"), {"fields": ("decision", "reason")}),
    )
    actions = ["approve_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(AWAITS_VERIFICATION)

    @admin.display(description=_("expected by"))
    def expected_by(self, person):
        return (person.verification_requested_at or person.date_joined) + verification.expected_wait()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        """Deciding is changing here: the role, and for one person, that it is not the verifier themselves."""
        return super().has_change_permission(request, obj) and permissions.allows(
            request.user, DECIDE_VERIFICATION, obj
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            if form.cleaned_data["decision"] == VerificationDecisionForm.APPROVE:
                decisions.approve(request.user, obj.pk, request=request)
            else:
                decisions.reject(request.user, obj.pk, form.cleaned_data["reason"], request=request)
        except verification.NotAwaitingVerification:
            request.verification_stale = True
        else:
            request.verification_stale = False

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited here."""

    def log_change(self, request, obj, message):
        """The audit trail (written by the service) is the record of the decision."""

    def response_change(self, request, obj):
        obj.refresh_from_db()
        if getattr(request, "verification_stale", False):
            self.message_user(
                request, _("Nothing was changed: someone decided on this person meanwhile."), messages.WARNING
            )
        elif obj.is_verified:
            self.message_user(
                request, _("%(name)s is verified. They will get an e-mail.") % {"name": obj.full_name}, messages.SUCCESS
            )
        else:
            self.message_user(
                request,
                _("%(name)s was not accepted. They will get an e-mail with your reason.") % {"name": obj.full_name},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:accounts_pendingverification_changelist"))

    @admin.action(description=_("Verify the selected people"), permissions=["change"])
    def approve_selected(self, request, queryset):
        allowed, refused = allowed_and_refused(request.user, DECIDE_VERIFICATION, queryset)
        report_skipped(self, request, refused)
        done = approve_each(request, allowed)
        self.message_user(
            request,
            ngettext("%(count)d person verified.", "%(count)d people verified.", done) % {"count": done},
            messages.SUCCESS,
        )


@admin.register(VerificationDecision)
class VerificationDecisionAdmin(ReadOnlyAdmin):
    """Past decisions, read-only: who decided what, when, and whether the person was e-mailed."""

    list_display = ("person", "outcome", "reason", "decided_by", "decided_at", "notified_at")
    list_filter = ("outcome", "decided_at")
    search_fields = ("person__email", "person__full_name", "decided_by__email")
    list_select_related = ("person", "decided_by")
    date_hierarchy = "decided_at"
    fields = list_display
    readonly_fields = list_display
