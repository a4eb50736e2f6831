import logging

import requests
from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from participation.models import Comment, PollBallot, ReferendumParticipation

from .forms import ProfileForm

logger = logging.getLogger(__name__)


@login_required
def profile(request):
    """Show and edit who the person is; a changed identity needs checking again."""
    user = request.user
    was_verified = user.is_verified
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            user = form.save()
            messages.success(request, _("Your profile has been saved."))
            if was_verified and not user.is_verified:
                messages.warning(
                    request,
                    _("You changed your segment or identity number, so your identity must be verified again."),
                )
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=user)
    return render(request, "accounts/profile.html", {"form": form, "participation": my_participation(request.user)})


def my_participation(user):
    """What the person took part in; for referendums only that they did, never how."""

    return {
        "polls": PollBallot.objects.filter(voter=user).select_related("item").order_by("-cast_at"),
        "referendums": ReferendumParticipation.objects.filter(voter=user).select_related("item").order_by("-voted_on"),
        "comments": Comment.objects.filter(author=user).select_related("item", "section").order_by("-created_at"),
    }


def _provider_unavailable(request, step):
    logger.warning("national digital identity unavailable at %s", step, exc_info=True)
    return render(request, "socialaccount/provider_unavailable.html", status=503)


def national_identity_login(request, provider_id):
    """allauth's OpenID Connect login, with an answer for a provider that does not answer.

    Starting the sign-in reads the provider's discovery document; when the provider is down that is a
    connection error, which allauth lets through as a 500. The person gets a page in their language
    instead, which says so and points to signing in with the e-mail address (always there).
    """
    try:
        return openid_connect_views.login(request, provider_id)
    except requests.RequestException:
        return _provider_unavailable(request, "sign-in start")


def national_identity_callback(request, provider_id):
    """allauth's OpenID Connect callback, with the same answer when the provider went down meanwhile.

    allauth turns most token-endpoint failures into its authentication error page (our
    socialaccount/authentication_error.html), but reads the discovery document before that.
    """
    try:
        return openid_connect_views.callback(request, provider_id)
    except requests.RequestException:
        return _provider_unavailable(request, "callback")
