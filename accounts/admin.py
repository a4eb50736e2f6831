from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from participation import audit
from participation.admin import FilterGuardMixin
from participation.audit import AuditedDeletionsMixin
from participation.models import AuditEntry
from participation.validators import validate_single_line

from .models import User


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
    readonly_fields = ("verification", "verification_method", "verified_at", "last_login", "date_joined")
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
        (_("Identity"), {"fields": ("identity_number", "verification", "verification_method", "verified_at")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    @admin.action(description=_("Mark identity as verified (checked by staff)"), permissions=["change"])
    def verify_identity(self, request, queryset):
        done = 0
        for user in queryset.exclude(identity_number="").exclude(verification=User.Verification.VERIFIED):
            user.mark_verified(User.VerificationMethod.STAFF)
            user.save(update_fields=["verification", "verification_method", "verified_at"])
            audit.record(AuditEntry.Action.VERIFY, actor=request.user, obj=user, request=request)
            done += 1
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
        count = queryset.update(verification=User.Verification.UNVERIFIED, verification_method="", verified_at=None)
        self.message_user(
            request,
            ngettext("%(count)d verification reset.", "%(count)d verifications reset.", count) % {"count": count},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        if change and {"segment", "identity_number"} & set(form.changed_data):
            obj.reset_verification()
        super().save_model(request, obj, form, change)
