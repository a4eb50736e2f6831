"""E-participation: page feedback (and, from the participation issue, items and ballots)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

FEEDBACK_TEXT_MAX = 500

# Lets constraints say `field__length__lte=N`, so the database holds length limits too.
models.TextField.register_lookup(Length)


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

