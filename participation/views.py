from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import audience as audiences
from . import feedback
from .forms import FeedbackAnswerForm, FeedbackReasonForm


def home(request):
    chosen = audiences.remembered(request.session)
    return render(
        request,
        "participation/home.html",
        {"picker_groups": audiences.picker_groups(), "chosen_audience": chosen, "opportunities": []},
    )


@require_GET
def choose_audience(request):
    """Remember the picker's choice for the session, then show what fits it."""
    if "clear" in request.GET:
        audiences.remember(request.session, None)
        return redirect("home")
    chosen = audiences.Audience.parse(request.GET.get("segment"), request.GET.get("persona"))
    if chosen is None:
        return render(
            request,
            "error.html",
            {"title": _("Unknown choice"), "message": _("Choose one of the groups shown on the home page.")},
            status=400,
        )
    audiences.remember(request.session, chosen)
    return redirect(reverse("home") + "#opportunities")


def about(request):
    return render(request, "pages/about.html")


def policy(request):
    return render(request, "pages/policy.html")


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _back_to(request, raw_path):
    if raw_path and url_has_allowed_host_and_scheme(raw_path, allowed_hosts={request.get_host()}):
        return f"{raw_path.split('?')[0]}#feedback"
    return "/"


def _refused(request, message, status):
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(request, "error.html", {"title": _("Your answer was not saved"), "message": message}, status=status)


def _widget_json(request, raw_path, state):
    html = render_to_string(
        "includes/feedback_widget.html",
        {"feedback_state": state, "feedback_path": raw_path, "reason_form": FeedbackReasonForm()},
        request=request,
    )
    return JsonResponse({"state": state, "html": html})


def _first_error(form):
    for errors in form.errors.values():
        return errors[0]
    return _("Something in your answer was not right.")


@require_POST
def feedback_answer(request):
    form = FeedbackAnswerForm(request.POST)
    if not form.is_valid():
        return _refused(request, _first_error(form), 400)
    raw_path = form.cleaned_data["path"]
    if form.cleaned_data["website"]:
        # A bot filled the honeypot: answer as if all went well, keep nothing.
        return _widget_json(request, raw_path, "thanks") if _wants_json(request) else redirect(_back_to(request, raw_path))
    try:
        answer = feedback.record_answer(request.session, raw_path, form.cleaned_data["answer"] == "yes")
    except feedback.FeedbackRefused as refusal:
        return _refused(request, refusal.message, refusal.status)
    state = "thanks" if answer.is_easy else "reason"
    if _wants_json(request):
        return _widget_json(request, raw_path, state)
    return redirect(_back_to(request, raw_path))


@require_POST
def feedback_reason(request):
    form = FeedbackReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, _first_error(form), 400)
    raw_path = form.cleaned_data["path"]
    if not form.cleaned_data["website"]:
        try:
            feedback.record_reason(
                request.session, raw_path, form.cleaned_data["reason"], form.cleaned_data["reason_text"]
            )
        except feedback.FeedbackRefused as refusal:
            return _refused(request, refusal.message, refusal.status)
    if _wants_json(request):
        return _widget_json(request, raw_path, "thanks")
    return redirect(_back_to(request, raw_path))

