from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import PERSONAS_BY_SEGMENT, Persona, Segment

from .models import COMMENT_MAX, FEEDBACK_TEXT_MAX, Entity, Kind, PageFeedback


class FeedbackAnswerForm(forms.Form):
    path = forms.CharField(max_length=255)
    answer = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])
    # Honeypot: hidden from people (and from screen readers); bots fill it in.
    website = forms.CharField(required=False)


class FeedbackReasonForm(forms.Form):
    path = forms.CharField(max_length=255)
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
    q = forms.CharField(label=_("Search by title"), required=False, max_length=100)

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
