from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


def national_identity_enabled():
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return any(app.get("provider_id") == settings.NATIONAL_IDENTITY_PROVIDER_ID for app in apps)


@register.simple_tag
def national_identity_login_url():
    """The sign-in URL of the national digital identity, or "" when the portal has none configured."""
    if not national_identity_enabled():
        return ""
    return reverse("openid_connect_login", kwargs={"provider_id": settings.NATIONAL_IDENTITY_PROVIDER_ID})
