from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Row


def rows(request):
    """A template page with 20 rows from one query: the baseline of the portal's pages."""
    return render(request, "bare/rows.html", {"rows": Row.objects.order_by("-pk")[:20]})


@require_POST
@login_required
def insert(request):
    """One row inserted for the session's user, then a redirect: the baseline of a vote."""
    Row.objects.create(author=request.user, text=request.POST.get("text", "")[:200])
    return redirect("rows")
