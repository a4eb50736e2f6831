from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import PageFeedback


@admin.register(PageFeedback)
class PageFeedbackAdmin(admin.ModelAdmin):
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
