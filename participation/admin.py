from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count, F, Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from nested_admin import NestedInlineFormSet, NestedModelAdmin, NestedStackedInline, NestedTabularInline

from . import permissions, roles
from .errors import ParticipationError
from .models import (
    FROZEN_ITEM_FIELDS,
    LIVE_STATES,
    MAX_OPTIONS,
    MAX_REFERENDUM_OPTIONS,
    MIN_OPTIONS,
    AuditEntry,
    Comment,
    Consultation,
    Entity,
    Item,
    ItemCorrection,
    Kind,
    Option,
    PageFeedback,
    Poll,
    Question,
    Referendum,
    Result,
    Section,
    State,
    content_frozen,
)
from .services import consultation, lifecycle, moderation
from .signals import AuditedDeletionsMixin
from .validators import breaks_a_line

admin.site.site_header = _("Hukoomi e-participation administration")
admin.site.site_title = _("Hukoomi e-participation")
admin.site.index_template = "admin/hukoomi_index.html"
admin.site.index_title = _("Consultations, polls and referendums")


# Who may do what is decided in participation/permissions.py, never here: this admin asks it for its lists
# (visible_items, visible_entities, own_entities, changeable_items, entity_scope) and, object by object,
# through permissions.allows(user, name, obj): user.has_perm(name, obj) of django-rules (whose
# rules.contrib.admin.ObjectPermissionsModelAdmin is the model here), but without Django's "superusers may do
# anything", so that the item's state binds superusers too.
# Django's own model permissions (the role) still gate each page before the object is asked.


def allowed_and_refused(user, permission, rows):
    """Split the chosen rows of an admin action into those the permission allows and {reason: count} for the rest."""
    allowed, refused = [], {}
    for row in rows:
        reason = permissions.refusal(user, permission, row)
        if reason is None:
            allowed.append(row)
        else:
            refused[str(reason)] = refused.get(str(reason), 0) + 1
    return allowed, refused


def report_skipped(model_admin, request, refused):
    """One warning per reason: how many chosen rows were left alone, and why."""
    for reason, count in refused.items():
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d selected row was skipped: %(reason)s",
                "%(count)d selected rows were skipped: %(reason)s",
                count,
            )
            % {"count": count, "reason": reason},
            messages.WARNING,
        )


# What a date hierarchy can be asked for: datetime computes the next year or month from these, so a year
# of 9999 (or 99999999999) would overflow where Django's admin does not catch it.
DATE_HIERARCHY_BOUNDS = {"year": (1900, 2999), "month": (1, 12), "day": (1, 31)}


def changelist_parameter_problem(params, date_hierarchy=None):
    """A translated message when a changelist's query string cannot be a filter a person chose; None when it can.

    Django's admin turns most bad lookups into IncorrectLookupParameters itself. It misses two: a NUL (PostgreSQL
    refuses it in any text comparison, only once the page is rendered) and date-hierarchy numbers that overflow.
    """
    for key, values in params.lists():
        if any(breaks_a_line(part) for part in (key, *values)):
            return _("This filter contains characters that cannot be used, so the whole list is shown.")
    for part, (low, high) in DATE_HIERARCHY_BOUNDS.items() if date_hierarchy else ():
        for value in params.getlist(f"{date_hierarchy}__{part}"):
            if not (value.isascii() and value.isdigit() and len(value) <= 4 and low <= int(value) <= high):
                return _("This date is outside the dates the list can show, so the whole list is shown.")
    return None


class FilterGuardMixin:
    """Bad filter values in a changelist's address are a message and the unfiltered list, never a 500."""

    def changelist_view(self, request, extra_context=None):
        # Whoever may not see the list gets Django's 403 first, whatever the filters say.
        problem = self.has_view_or_change_permission(request) and changelist_parameter_problem(
            request.GET, self.date_hierarchy
        )
        if problem:
            self.message_user(request, problem, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().changelist_view(request, extra_context)


def _has_ballots(item):
    return item is not None and item.pk and (item.poll_ballots.exists() or item.referendum_ballots.exists())


# What the database says when a trigger of migration 0012_frozen_content refuses a write.
FROZEN_REFUSALS = ("content is frozen", "corrections are append-only")
FROZEN_NOTE = _(
    "This item has opened, so its text, sections, questions, options and audience are frozen as people saw them "
    "when they took part. To correct something, add a correction: it is published on the item's page with its date."
)
FROZEN_REFUSED = _(
    "Nothing was saved: this item opened while you were editing, so its content is now frozen. "
    "To correct something, add a correction instead."
)


def _refused_as_frozen(error):
    return any(marker in str(error) for marker in FROZEN_REFUSALS)


class FrozenRefusalMixin:
    """Turns a save that the frozen-content triggers refuse into a form error, not a server error.

    The admin locks frozen fields by the application's clock; the database
    decides by its own. When an item opens between showing the form and saving
    it, the trigger refuses, the change form's transaction rolls back, and the
    form is shown again, with what was posted and a message that says why.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as error:
            if request.method != "POST" or not _refused_as_frozen(error):
                raise
        request.frozen_refusal = True
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not getattr(request, "frozen_refusal", False):
            return form

        def refuse(self):
            form.clean(self)
            raise ValidationError(FROZEN_REFUSED, code="content_frozen")

        return type(form.__name__, (form,), {"clean": refuse})


class BilingualFieldsMixin:
    """Arabic fields right-to-left and English fields left-to-right, whatever the admin's language;
    every input of a tabular row or a split date/time labelled for screen readers."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is None:
            return field
        name = db_field.name
        if name.endswith("_ar"):
            field.widget.attrs.update(dir="rtl", lang="ar")
        elif name.endswith("_en"):
            field.widget.attrs.update(dir="ltr", lang="en")
        subwidgets = getattr(field.widget, "widgets", None)
        if subwidgets and len(subwidgets) == 2:  # admin's split date and time
            subwidgets[0].attrs["aria-label"] = f"{field.label}: {_('Date')}"
            subwidgets[1].attrs["aria-label"] = f"{field.label}: {_('Time')}"
        elif isinstance(self, (admin.TabularInline, NestedTabularInline)):
            field.widget.attrs.setdefault("aria-label", str(field.label))
        return field


@admin.register(Entity)
class EntityAdmin(FilterGuardMixin, AuditedDeletionsMixin, BilingualFieldsMixin, admin.ModelAdmin):
    list_display = ("name_ar", "name_en", "slug")
    search_fields = ("name_ar", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    filter_horizontal = ("members",)
    fields = (("name_ar", "name_en"), "slug", "members")

    def get_queryset(self, request):
        return permissions.visible_entities(request.user, super().get_queryset(request))


class LockedOnceOpenMixin:
    """Sections, questions and options cannot be added, changed or deleted once the item has opened
    (the database refuses it too, migration 0012_frozen_content)."""

    # Inlines show this above their rows once the item has opened (set per request by the parent admin).
    frozen_note = ""

    def _locked(self, request, obj):
        item = obj if isinstance(obj, Item) else getattr(obj, "item", None)
        return (
            content_frozen(item)
            or _has_ballots(item)
            or (
                item is not None and item.pk and not permissions.allows(request.user, "participation.change_item", item)
            )
        )

    def has_add_permission(self, request, obj=None):
        # Inlines are asked with the parent object; a ModelAdmin with the request alone.
        allowed = (
            super().has_add_permission(request, obj)
            if isinstance(self, admin.options.InlineModelAdmin)
            else super().has_add_permission(request)
        )
        return allowed and not self._locked(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(request, obj) and super().has_delete_permission(request, obj)


# Rows are moved out of the way to these positions while they are renumbered (option_position_unique and
# question_position_unique are checked row by row, so 1 and 2 cannot simply swap).
PARKED_OFFSET = 10000
SAVED_OFFSET = 20000


class SelfNumberedForm(forms.ModelForm):
    """A row whose position may be left empty (it comes last) or repeat another's: the formset numbers them."""

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.add("position")
        return exclusions


class SelfNumberingFormSet(NestedInlineFormSet):
    """Positions that number themselves: 1, 2, 3 … in the order staff gave, new rows after the others.

    A typed position places its row (ties keep the order on the page); an empty one puts a new row last.
    Rows are parked on free positions before the final numbers are written, so reordering never trips
    the unique constraint. Nothing is written when nothing changed, so a frozen item (read-only here,
    refused by the triggers of migration 0012) is never touched.
    """

    position_field = "position"

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            # A tabular row's delete box has no <label> of its own (Django's template): name it for screen readers.
            form.fields["DELETE"].widget.attrs["aria-label"] = str(_("Delete"))

    def _kept_forms(self):
        deleted = set(self.deleted_forms) if self.can_delete else set()
        return [f for f in self.forms if f not in deleted and (f.instance.pk or f.has_changed())]

    def numbered_forms(self):
        """The kept forms in their final order."""
        last = float("inf")

        def order(pair):
            index, form = pair
            typed = form.cleaned_data.get(self.position_field) if hasattr(form, "cleaned_data") else None
            return (last if typed is None else typed, index)

        return [form for _index, form in sorted(enumerate(self._kept_forms()), key=order)]

    def save(self, commit=True):
        if not commit:
            return super().save(commit)
        if not self.deleted_forms and not any(form.has_changed() for form in self.forms):
            # Nothing posted changes anything (always so for a frozen item's read-only rows): write nothing,
            # not even to close gaps in stored positions.
            return super().save(commit)
        ordered = self.numbered_forms()
        item = _item_of(self.instance)
        if item is not None and item.pk:
            # One renumbering of a draft at a time (the change view's transaction holds the lock): two people
            # saving the same draft's rows at once would otherwise collide on the unique positions (a 500).
            Item.objects.select_for_update().filter(pk=item.pk).values_list("pk", flat=True).first()
        if self.instance.pk:
            # Every stored row out of the way first, including one added meanwhile that this page did not show.
            self.model.objects.filter(**{self.fk.name: self.instance}).update(
                **{self.position_field: F(self.position_field) + PARKED_OFFSET}
            )
        for rank, form in enumerate(ordered, start=1):
            setattr(form.instance, self.position_field, SAVED_OFFSET + rank)
            if form.instance.pk and not form.has_changed():
                # The formset will not save an unchanged row: move it to its place in the new order now.
                self.model.objects.filter(pk=form.instance.pk).update(**{self.position_field: SAVED_OFFSET + rank})
        saved = super().save(commit)
        for rank, form in enumerate(ordered, start=1):
            self.model.objects.filter(pk=form.instance.pk).update(**{self.position_field: rank})
            setattr(form.instance, self.position_field, rank)
        return saved


class OptionCountFormSet(SelfNumberingFormSet):
    max_options = MAX_OPTIONS

    def _question_left_out(self):
        """An empty extra question, or one being deleted, needs no options (the poll's own page)."""
        question_form = getattr(self, "parent_form", None)
        if question_form is None:
            return False
        deleting = bool(question_form.data.get(question_form.add_prefix("DELETE")))
        return deleting or (question_form.instance.pk is None and not question_form.has_changed())

    def _options_untouched(self):
        """A saved question whose options nobody changed keeps them as they are (and may be read-only here)."""
        question = self.instance
        return (
            question is not None
            and question.pk is not None
            and not self.deleted_forms
            and not any(form.has_changed() for form in self.forms)
        )

    def clean(self):
        super().clean()
        if self._question_left_out() or self._options_untouched():
            return
        item = _item_of(self.instance)
        if item is not None and item.kind == Kind.REFERENDUM:
            self.max_options = min(self.max_options, MAX_REFERENDUM_OPTIONS)
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not MIN_OPTIONS <= len(kept) <= self.max_options:
            raise forms.ValidationError(
                _("A question needs between %(min)d and %(max)d options.")
                % {"min": MIN_OPTIONS, "max": self.max_options}
            )


def _item_of(obj):
    """The item of a question (None while the question is new), or the item itself (nested inlines are asked with it)."""
    if obj is None or isinstance(obj, Item):
        return obj
    return obj.item if obj.item_id else None


class SelfNumberingInlineMixin:
    """Position fields of inline rows may be left empty: the row comes last (see SelfNumberingFormSet)."""

    form = SelfNumberedForm
    # No drag and drop: the typed positions order the rows (nested_admin's dragging would only move them on screen).
    is_sortable = False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "position":
            field.required = False
            field.initial = None
            field.help_text = _("Leave empty to put it last; the positions are numbered 1, 2, 3 … when saved.")
            field.widget.attrs["aria-label"] = str(field.label)
        return field


class OptionInline(SelfNumberingInlineMixin, BilingualFieldsMixin, LockedOnceOpenMixin, NestedTabularInline):
    model = Option
    template = "admin/participation/edit_inline/frozen_tabular.html"
    formset = OptionCountFormSet
    fields = ("position", "text_ar", "text_en")
    extra = 2
    # The referendum admin's questions allow fewer options.
    max_options = MAX_OPTIONS

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        item = _item_of(obj)
        formset.max_options = (
            MAX_REFERENDUM_OPTIONS if item is not None and item.kind == Kind.REFERENDUM else self.max_options
        )
        return formset

    def _locked(self, request, obj):
        return obj is not None and super()._locked(request, _item_of(obj))


class ReferendumOptionInline(OptionInline):
    max_options = MAX_REFERENDUM_OPTIONS


class QuestionInline(SelfNumberingInlineMixin, BilingualFieldsMixin, LockedOnceOpenMixin, NestedStackedInline):
    model = Question
    template = "admin/participation/edit_inline/frozen_stacked.html"
    formset = SelfNumberingFormSet
    inlines = [OptionInline]
    fields = ("position", ("text_ar", "text_en"), "kind", ("min_choices", "max_choices"), "allow_abstain")
    extra = 1
    verbose_name_plural = _("questions and their options")


class ReferendumQuestionInline(QuestionInline):
    inlines = [ReferendumOptionInline]
    max_num = 1


class SectionInline(BilingualFieldsMixin, LockedOnceOpenMixin, NestedStackedInline):
    model = Section
    template = "admin/participation/edit_inline/frozen_stacked.html"
    fields = ("number", ("heading_ar", "heading_en"), ("body_ar", "body_en"))
    extra = 1


class ItemCorrectionInline(BilingualFieldsMixin, NestedStackedInline):
    """Corrections of an item that has opened: added here, never changed or deleted (the database refuses both).

    ItemAdmin.save_formset stamps the author and puts each one on the audit trail.
    """

    model = ItemCorrection
    fields = (("note_ar", "note_en"), "created_at", "created_by")
    readonly_fields = ("created_at", "created_by")
    extra = 1
    verbose_name = _("correction")
    verbose_name_plural = _("corrections (published on the item's page with their date; cannot be changed or deleted)")

    def has_add_permission(self, request, obj=None):
        return (
            obj is not None
            and permissions.allows(request.user, "participation.correct_item", obj)
            and super().has_add_permission(request, obj)
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(
    FilterGuardMixin,
    FrozenRefusalMixin,
    AuditedDeletionsMixin,
    BilingualFieldsMixin,
    LockedOnceOpenMixin,
    NestedModelAdmin,
):
    inlines = [OptionInline]
    list_display = ("text_ar", "text_en", "item", "kind")
    list_select_related = ("item",)
    search_fields = ("text_ar", "text_en", "item__title_ar", "item__title_en")
    fields = ("item", "position", ("text_ar", "text_en"), "kind", ("min_choices", "max_choices"), "allow_abstain")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(item__in=permissions.visible_items(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "item":
            # Only items that have not opened: the questions of the others are frozen.
            kwargs["queryset"] = (
                permissions.changeable_items(request.user)
                .exclude(kind="consultation")
                .filter(Q(state=State.DRAFT) | Q(state=State.SCHEDULED, opens_at__gt=timezone.now()))
                .filter(poll_ballots__isnull=True, referendum_ballots__isnull=True)
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_inline_instances(self, request, obj=None):
        instances = super().get_inline_instances(request, obj)
        if obj is not None and content_frozen(obj.item):
            for inline in instances:
                inline.frozen_note = FROZEN_NOTE
        return instances


def _frozen_as_stored(obj):
    """Frozen by the stored dates: a form posted with a new opening date (refused) is shown again as it was built."""
    if obj is None or obj.pk is None:
        return False
    return content_frozen(Item.objects.only("state", "opens_at").get(pk=obj.pk))


class StateByClockFilter(admin.SimpleListFilter):
    """The state as people see it: a scheduled item whose opening time has passed is open, and so on."""

    title = _("state")
    parameter_name = "state_now"

    def lookups(self, request, model_admin):
        return State.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        live = Q(state__in=LIVE_STATES)
        by_state = {
            State.DRAFT: Q(state=State.DRAFT),
            State.SCHEDULED: live & Q(opens_at__gt=now),
            State.OPEN: live & Q(opens_at__lte=now, closes_at__gt=now),
            State.CLOSED: Q(state=State.CLOSED) | (live & Q(closes_at__lte=now)),
            State.PUBLISHED: Q(state=State.PUBLISHED),
        }
        return queryset.filter(by_state[self.value()]) if self.value() in by_state else queryset


class ItemAdmin(FilterGuardMixin, FrozenRefusalMixin, AuditedDeletionsMixin, BilingualFieldsMixin, NestedModelAdmin):
    """Shared by the poll, referendum and consultation admins. Validation is Item.clean's.

    Once an item has opened its content is frozen (FROZEN_ITEM_FIELDS read-only,
    the inlines locked); what was wrong is put right by a dated correction.
    """

    list_display = ("title_ar", "title_en", "entity", "state_now", "opens_at", "closes_at", "public_link")
    # Only the staff member's entities are offered (RelatedOnly asks get_queryset, which is scoped).
    list_filter = (("entity", admin.RelatedOnlyFieldListFilter), StateByClockFilter)
    list_select_related = ("entity",)
    search_fields = ("title_ar", "title_en", "slug")
    prepopulated_fields = {"slug": ("title_en",)}
    date_hierarchy = "opens_at"
    readonly_fields = ("state_now", "public_link", "created_by", "created_at", "updated_at")
    actions = ["schedule", "close_now", "publish"]
    change_list_template = "admin/participation/item_change_list.html"
    content_fields = (
        ("title_ar", "title_en"),
        ("summary_ar", "summary_en"),
        ("body_ar", "body_en"),
    )
    extra_fieldsets = ()

    def get_fieldsets(self, request, obj=None):
        return (
            (None, {"fields": ("entity", "slug", "state_now", "public_link")}),
            (
                _("Content in Arabic and English"),
                {"fields": self.content_fields, "description": FROZEN_NOTE if _frozen_as_stored(obj) else ""},
            ),
            (_("Dates"), {"fields": (("opens_at", "closes_at"),)}),
            (
                _("Who may take part"),
                {
                    "fields": (
                        ("for_visitors", "for_citizens", "for_residents"),
                        ("only_students", "only_tourists", "only_business_owners", "only_parents", "only_employees"),
                        "requires_verified_identity",
                    ),
                    "description": _(
                        "Tick personas only to narrow the item to them; leave all unticked for everyone in the groups."
                    ),
                },
            ),
            *self.extra_fieldsets,
            (_("Record"), {"fields": ("created_by", "created_at", "updated_at")}),
        )

    @admin.display(description=_("state"), ordering="state")
    def state_now(self, obj):
        """By the clock, as on the public site: never "scheduled" for an item people are voting in."""
        return State(obj.current_state()).label if obj and obj.pk else State.DRAFT.label

    @admin.display(description=_("public page"))
    def public_link(self, obj):
        if not obj or not obj.pk:
            return "-"
        label = _("Preview") if obj.state == State.DRAFT else _("View on site")
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.get_absolute_url(), label)

    def get_queryset(self, request):
        items = Item.objects.filter(kind=self.model.proxy_kind).select_related("entity")
        return permissions.visible_items(request.user, items)

    # The role (Django's permission on the poll, referendum or consultation) first, then the object: ministry
    # and state, from participation/permissions.py.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (
            obj is None or permissions.allows(request.user, "participation.view_item", obj)
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or permissions.allows(request.user, "participation.change_item", obj)
        )

    def has_delete_permission(self, request, obj=None):
        # Only drafts (delete_item): the database refuses deleting anything people may have seen.
        return super().has_delete_permission(request, obj) and (
            obj is None or permissions.allows(request.user, "participation.delete_item", obj)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "entity":
            kwargs["queryset"] = permissions.own_entities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_prepopulated_fields(self, request, obj=None):
        # Once scheduled the slug is read-only, and a read-only field cannot be prepopulated.
        if obj is not None and obj.state != State.DRAFT:
            return {}
        return super().get_prepopulated_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.state != State.DRAFT:
            # Once scheduled, content and audience are fixed; dates can still move.
            fields += ["entity", "slug", "for_visitors", "for_citizens", "for_residents", "requires_verified_identity"]
            fields += ["only_students", "only_tourists", "only_business_owners", "only_parents", "only_employees"]
        if _frozen_as_stored(obj):
            fields += [name for name in FROZEN_ITEM_FIELDS if name not in fields]
        return fields

    def get_inline_instances(self, request, obj=None):
        instances = super().get_inline_instances(request, obj)
        if _frozen_as_stored(obj):
            for inline in instances:
                inline.frozen_note = FROZEN_NOTE
            instances.append(ItemCorrectionInline(self.model, self.admin_site))
        return instances

    def save_formset(self, request, form, formset, change):
        if formset.model is not ItemCorrection:
            return super().save_formset(request, form, formset, change)
        for correction in formset.save(commit=False):
            consultation.publish_correction(request.user, form.instance, correction.note_ar, correction.note_en)
        return None

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, operation, done_message, permission):
        """operation(item) on each chosen item the permission allows; the others are counted, with the reason."""
        allowed, refused = allowed_and_refused(request.user, permission, queryset)
        report_skipped(self, request, refused)
        done = 0
        for item in allowed:
            try:
                operation(item)
            except ParticipationError as error:
                self.message_user(request, f"{item}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=_("Schedule (opens and closes by its dates)"), permissions=["schedule"])
    def schedule(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: lifecycle.schedule_item(request.user, item),
            lambda n: (
                ngettext("%(count)d item has been scheduled.", "%(count)d items have been scheduled.", n) % {"count": n}
            ),
            "participation.schedule_item",
        )

    @admin.action(description=_("Close now"), permissions=["schedule"])
    def close_now(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: lifecycle.close_item_now(request.user, item),
            lambda n: (
                ngettext("%(count)d item has been closed.", "%(count)d items have been closed.", n) % {"count": n}
            ),
            "participation.close_item",
        )

    @admin.action(description=_("Publish results or outcome"), permissions=["schedule"])
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda item: lifecycle.publish_results(request.user, item),
            lambda n: (
                ngettext(
                    "Results or outcome published for %(count)d item.",
                    "Results or outcome published for %(count)d items.",
                    n,
                )
                % {"count": n}
            ),
            "participation.publish_item",
        )

    def has_schedule_permission(self, request):
        # The role alone (no object): the chosen rows are asked one by one in _each.
        return permissions.allows(request.user, "participation.schedule_item")

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if not self.has_schedule_permission(request):
            extra_context.update(
                schedule_note=True,
                schedule_role=roles.role_name(roles.MINISTRY_ADMINS),
                schedulers=roles.schedulers_near(request.user),
            )
        return super().changelist_view(request, extra_context)


@admin.register(Poll)
class PollAdmin(ItemAdmin):
    inlines = [QuestionInline]
    extra_fieldsets = ((_("Results"), {"fields": ("live_results",)}),)


@admin.register(Referendum)
class ReferendumAdmin(ItemAdmin):
    inlines = [ReferendumQuestionInline]


@admin.register(Consultation)
class ConsultationAdmin(ItemAdmin):
    inlines = [SectionInline]
    extra_fieldsets = (
        (_("Draft document and comments"), {"fields": ("attachment", "moderate_before_publishing")}),
        (
            _("Outcome"),
            {
                "fields": (
                    "outcome_due_at",
                    ("outcome_heard_ar", "outcome_heard_en"),
                    ("outcome_changed_ar", "outcome_changed_en"),
                    "outcome_published_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "outcome_published_at"]


class CommentModerationForm(forms.ModelForm):
    status = forms.ChoiceField(
        label=_("decision"),
        choices=[(Comment.Status.PUBLISHED, _("Publish")), (Comment.Status.HIDDEN, _("Hide (give a reason)"))],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Comment
        fields = ("status", "moderation_reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Comment.Status.HIDDEN and not (cleaned.get("moderation_reason") or "").strip():
            self.add_error("moderation_reason", _("Give a reason for hiding the comment."))
        return cleaned


@admin.register(Comment)
class CommentAdmin(FilterGuardMixin, AuditedDeletionsMixin, admin.ModelAdmin):
    form = CommentModerationForm
    list_display = ("body", "item", "section", "status", "created_at")
    list_filter = (
        "status",
        ("item__entity", admin.RelatedOnlyFieldListFilter),
        ("item", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("item", "section")
    search_fields = ("body",)
    readonly_fields = ("item", "section", "author", "body", "created_at", "moderated_by", "moderated_at")
    fields = (
        "item",
        "section",
        "author",
        "body",
        "created_at",
        "status",
        "moderation_reason",
        "moderated_by",
        "moderated_at",
    )
    actions = ["approve"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(item__in=permissions.visible_items(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and permissions.allows(
            request.user, "participation.moderate_comment", obj
        )

    def save_model(self, request, obj, form, change):
        moderation.moderate_comment(
            request.user, obj, approve=obj.status == Comment.Status.PUBLISHED, reason=obj.moderation_reason
        )

    @admin.action(description=_("Approve and publish"), permissions=["change"])
    def approve(self, request, queryset):
        allowed, refused = allowed_and_refused(
            request.user,
            "participation.moderate_comment",
            queryset.exclude(status=Comment.Status.PUBLISHED).select_related("item__entity"),
        )
        report_skipped(self, request, refused)
        count = 0
        for comment in allowed:
            moderation.moderate_comment(request.user, comment, approve=True)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d comment has been published.", "%(count)d comments have been published.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(PageFeedback)
class PageFeedbackAdmin(FilterGuardMixin, admin.ModelAdmin):
    """Answers to "Is this easy to understand?", with a per-page summary above the list.

    Feedback is evidence: it can be read and filtered, never edited.
    """

    change_list_template = "admin/participation/pagefeedback/change_list.html"
    list_display = ("path", "language", "is_easy", "reason", "created_at")
    list_filter = (("created_at", admin.DateFieldListFilter), "language", "is_easy", "reason")
    search_fields = ("path", "reason_text")
    date_hierarchy = "created_at"
    readonly_fields = ("path", "language", "is_easy", "reason", "reason_text", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is None:  # a redirect or an error page: nothing to summarise
            return response
        summary = (
            changelist.queryset.order_by()
            .values("path")
            .annotate(answers=Count("id"), yes=Count("id", filter=Q(is_easy=True)))
            .order_by("-answers", "path")
        )
        response.context_data["summary"] = [
            {**row, "yes_share": round(100 * row["yes"] / row["answers"])} for row in summary
        ]
        response.context_data["summary_title"] = _("Answers per page")
        return response


class ReadOnlyAdmin(FilterGuardMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail: readable and filterable, never changed (append-only in the database too)."""

    list_display = ("created_at", "actor_label", "action", "object_repr", "entity", "ip_address")
    list_filter = (
        "action",
        ("entity", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("actor_label", "object_repr", "object_id")
    date_hierarchy = "created_at"
    list_select_related = ("entity",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(permissions.entity_scope(request.user))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (
            obj is None or permissions.allows(request.user, "participation.view_auditentry", obj)
        )


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("item", "tallied_at", "ballots", "eligible", "ballots_digest")
    list_select_related = ("item",)
    search_fields = ("item__title_ar", "item__title_en", "item__slug")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(item__in=permissions.visible_items(request.user))


# Groups are staff roles: their deletions belong on the audit trail too.
admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(FilterGuardMixin, AuditedDeletionsMixin, GroupAdmin):
    pass
