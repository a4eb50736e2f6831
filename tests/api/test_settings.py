"""PORTAL_API_RATE is checked when the portal starts, not on the first API request."""

from tests.test_settings_env import run_python

SHOW_RATE = "import django; from django.conf import settings; django.setup(); print(settings.PORTAL_API_RATE)"


def test_a_rate_that_cannot_be_read_stops_the_portal_with_a_message():
    refused = run_python(SHOW_RATE, DJANGO_DEBUG="true", PORTAL_API_RATE="lots")
    assert refused.returncode != 0
    assert "PORTAL_API_RATE must read like 120/minute" in refused.stderr


def test_the_rate_is_read_from_the_environment():
    assert run_python(SHOW_RATE, DJANGO_DEBUG="true", PORTAL_API_RATE="30/second").stdout.strip() == "30/second"
    assert run_python(SHOW_RATE, DJANGO_DEBUG="true").stdout.strip() == "120/minute"
