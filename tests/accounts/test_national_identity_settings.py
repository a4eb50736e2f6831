"""The national digital identity is configured from the environment, and half a configuration is refused."""

import json

from tests.test_settings_env import production_env, run_python

SHOW = """
import json
import django
from django.conf import settings
django.setup()  # the provider's name is translated, so it is read once the apps are loaded
print(json.dumps(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]))
print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS, default=str))
"""


def test_without_a_server_url_there_is_no_national_identity_button():
    result = run_python(SHOW, **production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


def test_the_provider_is_read_from_the_environment():
    result = run_python(
        SHOW,
        **production_env(
            PORTAL_OIDC_SERVER_URL="https://id.example.gov.qa", PORTAL_OIDC_CLIENT_ID="portal", PORTAL_OIDC_CLIENT_SECRET="s3cret"
        ),
    )
    assert result.returncode == 0, result.stderr
    (app,) = json.loads(result.stdout.strip().splitlines()[-1])["openid_connect"]["APPS"]
    assert (app["provider_id"], app["client_id"], app["secret"]) == ("national", "portal", "s3cret")
    assert app["settings"]["server_url"] == "https://id.example.gov.qa"
    assert app["settings"]["fetch_userinfo"] is False and app["settings"]["oauth_pkce_enabled"] is True
    # The sign-in button's redirect leaves for the provider: the policy lets that form go there, and no further.
    assert json.loads(result.stdout.strip().splitlines()[-2]) == ["'self'", "https://id.example.gov.qa"]


def test_without_a_provider_forms_go_to_the_portal_only():
    result = run_python(SHOW, **production_env())
    assert json.loads(result.stdout.strip().splitlines()[-2]) == ["'self'"]


def test_a_server_url_without_its_client_is_refused_at_start():
    result = run_python(SHOW, **production_env(PORTAL_OIDC_SERVER_URL="https://id.example.gov.qa"))
    assert result.returncode != 0
    assert "PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET are required" in result.stderr
