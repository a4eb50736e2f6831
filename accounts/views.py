from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from participation.models import Comment, PollBallot, ReferendumParticipation

from .forms import ProfileForm


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
