"""Project-wide views: health check and translated error pages."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .celery import app
from .resilience import database_outage_in_flight, unavailable_response

logger = logging.getLogger(__name__)


def _broker_status():
    if not settings.CELERY_BROKER_URL:
        return "disabled"
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # any broker failure is a "down" answer, never a 500
        logger.warning("Health check: broker unreachable", exc_info=True)
        return "error"
    return "ok"


def healthz(request):
    """200 when the database answers; 503 when it does not. The broker is reported, not required."""
    body = {"status": "ok", "database": "ok", "broker": _broker_status()}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.error("Health check: database unreachable", exc_info=True)
        body.update(status="error", database="error")
        return JsonResponse(body, status=503)
    if body["broker"] == "error":
        body["status"] = "degraded"
    return JsonResponse(body)


def csrf_failure(request, reason=""):
    message = _(
        "Your form could not be sent because its security check failed. "
        "This happens when a page was open for a long time or cookies are blocked. "
        "Go back, reload the page and try again."
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=403)
    return render(request, "error.html", {"title": _("Please try again"), "message": message}, status=403)


def page_not_found(request, exception=None):
    return render(
        request,
        "error.html",
        {"title": _("Page not found"), "message": _("We could not find this page. Check the address or go to the home page.")},
        status=404,
    )


def permission_denied(request, exception=None):
    """403 with the reason the view gave, if any, and a way to sign in for people who have not."""
    reason = str(exception) if exception is not None and exception.args else ""
    return render(
        request,
        "error.html",
        {
            "title": _("Access denied"),
            "message": reason or _("You do not have permission to see this page."),
            "offer_login": not request.user.is_authenticated,
        },
        status=403,
    )


def bad_request(request, exception=None):
    return render(
        request,
        "error.html",
        {"title": _("Bad request"), "message": _("The request could not be understood. Go back and try again.")},
        status=400,
    )


def server_error(request):
    # A database outage outside a view (a middleware, the session saved on the way out) is a 503 too.
    outage = database_outage_in_flight()
    if outage is not None:
        return unavailable_response(request, outage)
    return render(
        request,
        "error.html",
        {"title": _("Something went wrong"), "message": _("Something went wrong on our side. Please try again later.")},
        status=500,
    )
