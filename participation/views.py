from urllib.parse import quote

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import audience as audiences
from . import errors, feedback, headlines, notifications, results, rules
from .forms import CommentForm, FeedbackAnswerForm, FeedbackReasonForm, ParticipateFilterForm, ReceiptCheckForm
from .item_cache import questions_of, with_corrections
from .models import (
    Comment,
    Item,
    Kind,
    Result,
    Section,
    SectionReaction,
    State,
)
from .services import consultation, voting
from .services import feedback as feedback_service
from .services import notifications as notification_service

HOME_ITEMS = 6


def home(request):
    now = timezone.now()
    chosen = audiences.remembered(request.session)
    items = Item.objects.public().open(now).select_related("entity").order_by("closes_at", "pk")
    if chosen:
        items = items.for_audience(chosen.segment, chosen.persona)
    opportunities = _annotate_for(request.user, list(items[:HOME_ITEMS]), now)
    return render(
        request,
        "participation/home.html",
        {"picker_groups": audiences.picker_groups(), "chosen_audience": chosen, "opportunities": opportunities},
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
    return redirect(reverse("participation:list") + "?" + urlencode(chosen.as_query()))


def about(request):
    return render(request, "pages/about.html")


def policy(request):
    return render(request, "pages/policy.html")


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _back_to(request, raw_path):
    # Only a path of ours: "²" or "x" would be read by redirect() as a view name (NoReverseMatch, a 500).
    if (
        raw_path
        and raw_path.startswith("/")
        and url_has_allowed_host_and_scheme(raw_path, allowed_hosts={request.get_host()})
    ):
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
    for messages_of_field in form.errors.values():
        return messages_of_field[0]
    return _("Something in your answer was not right.")


@require_POST
def feedback_answer(request):
    form = FeedbackAnswerForm(request.POST)
    if not form.is_valid():
        return _refused(request, _first_error(form), 400)
    raw_path = form.cleaned_data["path"]
    if form.cleaned_data["website"]:
        # A bot filled the honeypot: answer as if all went well, keep nothing.
        return (
            _widget_json(request, raw_path, "thanks") if _wants_json(request) else redirect(_back_to(request, raw_path))
        )
    try:
        answer = feedback_service.record_answer(
            request.session, raw_path, form.cleaned_data["answer"] == "yes", client=feedback.client_key(request)
        )
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
            feedback_service.record_reason(
                request.session, raw_path, form.cleaned_data["reason"], form.cleaned_data["reason_text"]
            )
        except feedback.FeedbackRefused as refusal:
            return _refused(request, refusal.message, refusal.status)
    if _wants_json(request):
        return _widget_json(request, raw_path, "thanks")
    return redirect(_back_to(request, raw_path))


# ---------------------------------------------------------------------------
# Participation: list, items, ballots, comments
# ---------------------------------------------------------------------------

PAGE_SIZE = 10
TABS = {
    "open": ("open", gettext_lazy("Open now")),
    "upcoming": ("upcoming", gettext_lazy("Upcoming")),
    "closed": ("closed", gettext_lazy("Closed")),
}


def _annotate_for(user, items, now):
    taken = rules.taken_part_ids(user)
    for item in items:
        item.barrier = rules.participation_barrier(user, item, now, taken_part=item.pk in taken)
        item.taken_part = item.pk in taken
        item.shown_state = item.current_state(now)
    return items


def participate(request):
    """Open items, with tabs for upcoming and closed, filters, search and pages."""
    now = timezone.now()
    form = ParticipateFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(
            request, "participation/participate.html", {"form": form, "tabs": TABS, "tab": "open"}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    tab = data.get("tab") or "open"
    items = getattr(Item.objects.public(), TABS[tab][0])(now).select_related("entity")
    if data.get("type"):
        items = items.filter(kind=data["type"])
    if data.get("entity"):
        items = items.filter(entity=data["entity"])
    chosen = audiences.Audience.parse(data.get("segment"), data.get("persona")) if data.get("segment") else None
    if chosen is None and not request.GET:
        chosen = audiences.remembered(request.session)
    if chosen:
        audiences.remember(request.session, chosen)
        items = items.for_audience(chosen.segment, chosen.persona)
    if data.get("q"):
        q = data["q"]
        items = items.filter(Q(title_ar__icontains=q) | Q(title_en__icontains=q))
    if tab == "closed":
        items = items.order_by("-closes_at", "-pk")
    elif tab == "upcoming":
        items = items.order_by("opens_at", "pk")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    _annotate_for(request.user, page.object_list, now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "participation/participate.html",
        {"form": form, "page": page, "tabs": TABS, "tab": tab, "chosen_audience": chosen, "query": query.urlencode()},
    )


def _get_item(request, kind, slug):
    """The item for its public page; drafts are 404 except as a preview for the staff who may read them in the
    admin (permissions.py, view_item: the same people who see the draft in the admin's list)."""
    item = get_object_or_404(Item.objects.select_related("entity"), kind=kind, slug=slug)
    if item.state == State.DRAFT and not request.user.has_perm("participation.view_item", item):
        raise Http404
    return item


def _detail_context(request, item, now):
    taken = rules.has_taken_part(request.user, item)
    preview = item.state == State.DRAFT
    return {
        "item": item,
        "now": now,
        # A draft is previewed as voters will first see it: "opens on …" (never "closed on" a future date).
        "shown_state": State.SCHEDULED if preview else item.current_state(now),
        "barrier": rules.participation_barrier(request.user, item, now, taken_part=taken),
        "taken_part": taken,
        "is_preview": preview,
        "login_url": f"{reverse('account_login')}?next={request.path}",
    }


def poll_detail(request, slug):
    item = _get_item(request, Kind.POLL, slug)
    now = timezone.now()
    questions = questions_of(item)
    status = 200
    error, selected = None, {}
    if request.method == "POST":
        # Every question-<id> field goes to the service, which refuses ids that are not this poll's.
        prefix = "question-"
        choices = {key[len(prefix) :]: request.POST.getlist(key) for key in request.POST if key.startswith(prefix)}
        try:
            voting.cast_poll_ballot(request.user, item, choices)
        except errors.ParticipationError as refusal:
            error, status = refusal.message, refusal.status
            selected = {q.pk: choices.get(str(q.pk), []) for q in questions}
        else:
            return redirect("participation:poll_thanks", slug=item.slug)
    # After the POST: an accepted vote redirects without reading what only the page shows.
    context = _detail_context(request, with_corrections(item), now)
    context["questions"] = questions
    context["selected"] = selected
    if error is not None:
        context["error"] = error
    context["results"] = _results_for(item, now, questions)
    context["headlines"] = headlines.for_results(context["results"], item.kind)
    return render(request, "participation/poll_detail.html", context, status=status)


def _results_for(item, now, questions):
    """Live counts of an open poll with live results, or the stored snapshot once it may be shown, or None.

    Pages only read: the worker (or the close_due and tally commands) closes and counts. A closed item whose
    count is not stored yet shows that the votes are being counted.
    """
    if item.kind == Kind.CONSULTATION:
        return None
    if item.is_open(now):
        return results.live_poll_results(item, questions) if rules.can_see_results(item, now) else None
    if not item.has_closed(now):
        return None
    if not rules.can_see_results(item, now):
        return None
    result = Result.objects.filter(item=item).first()
    if result is None:
        return {"counting": True}
    return results.snapshot_results(result)


def _results_page(request, kind, slug):
    item = _get_item(request, kind, slug)
    now = timezone.now()
    questions = questions_of(item)
    shown = _results_for(item, now, questions)
    return render(
        request,
        "participation/results.html",
        {
            "item": item,
            "results": shown,
            "headlines": headlines.for_results(shown, item.kind),
            "shown_state": item.current_state(now),
        },
    )


def poll_results(request, slug):
    return _results_page(request, Kind.POLL, slug)


def referendum_results(request, slug):
    return _results_page(request, Kind.REFERENDUM, slug)


def unsubscribe(request, token):
    """Stop e-mails from a signed link, without logging in. GET asks; POST does it (mail scanners follow GETs)."""
    try:
        user, kind = notifications.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(
            request,
            "error.html",
            {
                "title": _("This link does not work"),
                "message": _(
                    "The unsubscribe link is not valid. Copy the whole link from the e-mail, or change your e-mail settings in your profile."
                ),
            },
            status=400,
        )
    done = False
    if request.method == "POST":
        notification_service.unsubscribe(user, kind)
        done = True
    return render(request, "participation/unsubscribe.html", {"kind": kind, "done": done})


def poll_thanks(request, slug):
    item = _get_item(request, Kind.POLL, slug)
    if not rules.has_taken_part(request.user, item):
        return redirect(item.get_absolute_url())
    return render(request, "participation/voted.html", {"item": item, "show_results": rules.can_see_results(item)})


def referendum_detail(request, slug):
    """The referendum, its ballot form, and on POST the "check your answer" step, then the vote.

    The ballot form posts step=check: nothing is written, and the answer shows the choice to check, carried
    back in a hidden field of the next form (never in the session, a cookie, the URL or a log), with "Change"
    (step=change: the form again, the choice ticked) and "Cast my vote". That last POST, without a step, is
    the only one that writes, and the service checks the choice again as if it came first.
    """
    item = with_corrections(_get_item(request, Kind.REFERENDUM, slug))
    now = timezone.now()
    question = next(iter(questions_of(item)), None)
    context = _detail_context(request, item, now) | {"question": question}
    status = 200
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        step = request.POST.get("step", "")
        try:
            if step == "change":
                context["chosen"] = choice
            elif step == "check":
                return _referendum_check(request, item, question, choice, context)
            else:
                receipt = voting.cast_referendum_ballot(request.user, item, choice)
                return _receipt_response(request, item, receipt)
        except errors.ParticipationError as error:
            context = _detail_context(request, item, now) | {
                "question": question,
                "error": error.message,
                "chosen": choice,
            }
            status = error.status
    context["results"] = _results_for(item, now, [question] if question else [])
    context["headlines"] = headlines.for_results(context["results"], item.kind)
    return render(request, "participation/referendum_detail.html", context, status=status)


def _referendum_check(request, item, question, choice, context):
    """GOV.UK's "check your answer": the choice in words, "Change" and "Cast my vote"; nothing is stored."""
    option_id = voting.check_referendum_choice(request.user, item, choice)
    chosen_text = (
        _("Blank vote") if option_id is None else next(o.text for o in question.options.all() if o.pk == option_id)
    )
    return render(
        request,
        "participation/referendum_check.html",
        context | {"choice": choice, "chosen_text": chosen_text},
    )


def _receipt_response(request, item, receipt):
    """The receipt, in the answer to the vote itself: never in the session, the messages or a log.

    Shown once; no-store (NO_STORE_VIEWS in security_settings.py lists this view) keeps it out of every cache,
    so the back button cannot bring it back to the next person at a shared computer.
    """
    receipts_url = request.build_absolute_uri(reverse("participation:referendum_receipts", args=[item.slug]))
    text = render_to_string(
        "participation/receipt.txt", {"item": item, "receipt": receipt, "receipts_url": receipts_url}, request=request
    )
    return render(
        request,
        "participation/voted.html",
        {"item": item, "receipt": receipt, "receipt_download": f"data:text/plain;charset=utf-8,{quote(text)}"},
    )


def referendum_receipts(request, slug):
    """The public receipt list, after the results are published; with a check for one code."""
    item = _get_item(request, Kind.REFERENDUM, slug)
    if item.state != State.PUBLISHED:
        return render(request, "participation/receipts.html", {"item": item, "not_yet": True}, status=404)
    check = ReceiptCheckForm(request.GET)
    code = check.cleaned_data["code"] if check.is_valid() else ""
    found = item.referendum_ballots.filter(receipt=code).exists() if code else None
    receipts = Paginator(item.referendum_ballots.order_by("receipt").values_list("receipt", flat=True), 200)
    return render(
        request,
        "participation/receipts.html",
        {
            "item": item,
            "check": check,
            "code": code,
            "found": found,
            "page": receipts.get_page(request.GET.get("page")),
        },
        status=200 if check.is_valid() else 400,
    )


def consultation_detail(request, slug):
    item = _get_item(request, Kind.CONSULTATION, slug)
    return _consultation_page(request, item)


def _consultation_page(request, item, comment_form=None, status=200):
    """The consultation page; with a refused comment, its form comes back bound: errors and the text typed."""
    now = timezone.now()
    sections = list(
        item.sections.annotate(
            agree_count=Count("reactions", filter=Q(reactions__agrees=True)),
            disagree_count=Count("reactions", filter=Q(reactions__agrees=False)),
        ).order_by("number")  # GROUP BY drops Meta.ordering
    )
    comments = list(
        item.comments.filter(status=Comment.Status.PUBLISHED).select_related("author", "section").order_by("created_at")
    )
    by_section = {}
    for comment in comments:
        by_section.setdefault(comment.section_id, []).append(comment)
    for section in sections:
        section.published_comments = by_section.get(section.pk, [])
    own_reactions = {}
    if request.user.is_authenticated:
        own_reactions = dict(
            SectionReaction.objects.filter(section__item=item, user=request.user).values_list("section_id", "agrees")
        )
    for section in sections:
        section.own_reaction = own_reactions.get(section.pk)
    if comment_form is None:
        comment_form = CommentForm(sections=sections)
    context = _detail_context(request, item, now) | {
        "sections": sections,
        "general_comments": by_section.get(None, []),
        "comment_form": comment_form,
        "own_pending": item.comments.filter(author=request.user, status=Comment.Status.PENDING).count()
        if request.user.is_authenticated
        else 0,
    }
    return render(request, "participation/consultation_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def consultation_comment(request, slug):
    """Add a comment; when it is refused, the consultation page again, the errors beside the form, nothing lost.

    That page's address is this one, so its language switch (or a reload after the browser's warning) asks
    for it by GET: that goes to the consultation page, never to a "method not allowed" dead end.
    """
    item = _get_item(request, Kind.CONSULTATION, slug)
    if request.method == "GET":
        return redirect(f"{item.get_absolute_url()}#add-comment")
    sections = list(item.sections.all())
    form = CommentForm(request.POST, sections=sections)
    if not form.is_valid():
        return _consultation_page(request, item, form, status=400)
    try:
        comment = consultation.add_comment(request.user, item, form.cleaned_data["body"], form.cleaned_data["section"])
    except errors.ParticipationError as error:
        form.add_error("body" if isinstance(error, errors.InvalidComment) else None, error.message)
        return _consultation_page(request, item, form, status=error.status)
    if comment.status == Comment.Status.PENDING:
        messages.success(request, _("Thank you. Your comment will appear once a moderator has approved it."))
    else:
        messages.success(request, _("Thank you. Your comment has been published."))
    return redirect(f"{item.get_absolute_url()}#comments")


@require_POST
def consultation_react(request, slug, number):
    item = _get_item(request, Kind.CONSULTATION, slug)
    section = get_object_or_404(Section, item=item, number=number)
    agrees = request.POST.get("agrees")
    if agrees not in ("yes", "no"):
        return _refused(request, _("Choose “Agree” or “Disagree”."), 400)
    try:
        consultation.react_to_section(request.user, section, agrees == "yes")
    except errors.ParticipationError as error:
        return _refused(request, error.message, error.status)
    messages.success(
        request, _("Thank you. Your view on section %(number)d has been saved.") % {"number": section.number}
    )
    return redirect(f"{item.get_absolute_url()}#section-{section.number}")


def consultation_outcome(request, slug):
    item = _get_item(request, Kind.CONSULTATION, slug)
    if not item.has_closed():
        raise Http404
    return render(request, "participation/outcome.html", {"item": item, "now": timezone.now()})
