import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import ARABIC_DIGITS
from accounts.models import PERSONAS_BY_SEGMENT, Persona, Segment

from .models import COMMENT_MAX, FEEDBACK_TEXT_MAX, AuditEntry, Entity, Kind, PageFeedback, group_receipt
from .validators import validate_single_line


class FeedbackAnswerForm(forms.Form):
    path = forms.CharField(max_length=255, validators=[validate_single_line])
    answer = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])
    # Honeypot: hidden from people (and from screen readers); bots fill it in.
    website = forms.CharField(required=False)


class FeedbackReasonForm(forms.Form):
    path = forms.CharField(max_length=255, validators=[validate_single_line])
    reason = forms.ChoiceField(
        label=_("What was the problem?"), choices=PageFeedback.Reason.choices, required=False, widget=forms.RadioSelect
    )
    reason_text = forms.CharField(
        label=_("Tell us more (optional)"),
        required=False,
        max_length=FEEDBACK_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Up to 500 characters. Do not include personal details such as your ID or phone number."),
        error_messages={"max_length": _("Keep it to 500 characters or fewer (you wrote %(show_value)d).")},
    )
    website = forms.CharField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason_text") and not cleaned.get("reason"):
            cleaned["reason"] = PageFeedback.Reason.OTHER
        return cleaned


class ParticipateFilterForm(forms.Form):
    tab = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("open", _("Open now")), ("upcoming", _("Upcoming")), ("closed", _("Closed"))],
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *Kind.choices])
    entity = forms.ModelChoiceField(
        label=_("Entity"), required=False, queryset=Entity.objects.all(), empty_label=_("All entities")
    )
    segment = forms.ChoiceField(label=_("Open to"), required=False, choices=[("", _("Everyone")), *Segment.choices])
    persona = forms.ChoiceField(label=_("Who"), required=False, choices=[("", _("Any")), *Persona.choices])
    q = forms.CharField(label=_("Search by title"), required=False, max_length=100, validators=[validate_single_line])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].label_from_instance = lambda entity: entity.name

    def clean(self):
        cleaned = super().clean()
        segment, persona = cleaned.get("segment"), cleaned.get("persona")
        if persona and not segment:
            self.add_error("segment", _("Choose a group before choosing who within it."))
        elif persona and Persona(persona) not in PERSONAS_BY_SEGMENT[Segment(segment)]:
            self.add_error("persona", _("This choice is not part of that group."))
        return cleaned


class CommentForm(forms.Form):
    section = forms.TypedChoiceField(label=_("About"), required=False, coerce=int, empty_value=None)
    body = forms.CharField(
        label=_("Your comment"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": COMMENT_MAX}),
        help_text=_("Plain text, up to 2,000 characters. Comments are public with your name."),
        error_messages={
            "required": _("Write your comment before sending it."),
            "max_length": _("Comments can be at most %(limit_value)d characters; yours has %(show_value)d."),
        },
    )

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._sections = {s.pk: s for s in sections}
        self.fields["section"].choices = [("", _("The whole draft"))] + [
            (s.pk, _("Section %(number)d: %(heading)s") % {"number": s.number, "heading": s.heading}) for s in sections
        ]

    def clean_section(self):
        value = self.cleaned_data.get("section")
        return self._sections.get(value) if value else None


# Receipts are 26 base32 characters in groups of four; people add spaces and dashes as they copy
# them, and type digits on Arabic keyboards. A shorter code is looked up (and not found), not refused.
RECEIPT_CHARACTERS = re.compile(r"^[A-Z0-9]{1,32}$")


class ReceiptCheckForm(forms.Form):
    """The public receipt list's "Check your receipt code": a receipt, however it was typed, or nothing."""

    code = forms.CharField(label=_("Check your receipt code"), required=False, max_length=64)

    def clean_code(self):
        """Return the code grouped as stored (ABCD-EFGH-…), or "" when none was given."""
        raw = self.cleaned_data["code"].translate(ARABIC_DIGITS).upper()
        compact = "".join(raw.replace("-", " ").split())
        if not compact:
            return ""
        if not RECEIPT_CHARACTERS.match(compact):
            raise forms.ValidationError(
                _("A receipt code is made of Latin letters and digits in groups of four. Copy it exactly as it was shown."),
                code="not_a_receipt",
            )
        return group_receipt(compact)


class AuditTrailFilterForm(forms.Form):
    """The audit trail CSV's optional filters, checked before anything is recorded or streamed."""

    action = forms.ChoiceField(
        required=False,
        choices=[("", ""), *AuditEntry.Action.choices],
        error_messages={"invalid_choice": _("This is not one of the actions on the audit trail.")},
    )
    entity = forms.SlugField(
        required=False, error_messages={"invalid": _("There is no government entity with this short name.")}
    )

    def clean_entity(self):
        slug = self.cleaned_data["entity"]
        if slug and not Entity.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("There is no government entity with this short name."), code="unknown_entity")
        return slug
