from oauth2_provider.oauth2_validators import OAuth2Validator

# username -> the claims the national digital identity vouches for (filled by serve.py).
PEOPLE = {}


class NationalIdentityValidator(OAuth2Validator):
    """Puts the person's identity in the ID token, as the national digital identity does."""

    oidc_claim_scope = None  # every claim below goes into the ID token

    def get_additional_claims(self, request):
        return dict(PEOPLE.get(request.user.username, {}))
