from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FEEDBACK_TEXT_MAX, PageFeedback


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
