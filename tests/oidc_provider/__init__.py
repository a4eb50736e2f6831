"""A real OpenID Connect provider for the tests: a small Django project on django-oauth-toolkit.

It stands in for Qatar's national digital identity: people sign in on its own login page, and it
issues RS256-signed ID tokens carrying their name, e-mail, Qatar ID number and nationality. The
tests start it with `serve.py` in a subprocess on a free loopback port (tests/accounts/oidc.py).
"""
