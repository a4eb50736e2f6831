"""Start the real test identity provider (tests/oidc_provider/) and sign in on it like a browser would."""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from hukoomi_portal.settings import national_identity_providers

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "hukoomi-e-participation"
CLIENT_SECRET = "test-client-secret-0123456789"  # noqa: S105 (the test provider's client)
PROVIDER_PASSWORD = "Provider-Password-2026"  # noqa: S105
CALLBACK_PATH = "/{lang}/accounts/oidc/national/login/callback/"

# The people the test provider knows, and what their ID token says about them.
PEOPLE = {
    "noura": {"name": "نورة آل ثاني", "email": "noura@example.qa", "email_verified": True, "qatar_id": "28763400001", "nationality": "QAT"},
    "rahul": {"name": "Rahul Menon", "email": "rahul@example.qa", "email_verified": True, "qatar_id": "29035600002", "nationality": "IND"},
    "mariam": {"name": "Mariam Al-Kuwari", "email": "mariam@example.qa", "email_verified": True, "qatar_id": "29563400003", "nationality": "QAT"},
    "khalid": {"name": "Khalid Al-Marri", "email": "khalid@example.qa", "email_verified": True, "qatar_id": "28063400004", "nationality": "QAT"},
    "fatima": {"name": "Fatima Al-Sulaiti", "email": "fatima@example.qa", "email_verified": True, "qatar_id": "28463400005", "nationality": "QAT"},
    "mismatch": {"name": "Omar Haddad", "email": "omar@example.qa", "email_verified": True, "qatar_id": "29035600006", "nationality": "QAT"},
    "hessa": {"name": "Hessa Al-Mannai", "qatar_id": "29263400008", "nationality": "QAT"},  # no e-mail address
    "layla": {"name": "Layla Nasser", "email": "layla@example.qa", "email_verified": True, "qatar_id": "29163400007", "nationality": "QAT"},
}


@dataclass
class Provider:
    url: str
    process: subprocess.Popen = field(repr=False)

    @property
    def server_url(self):
        return f"{self.url}/o"

    def portal_settings(self):
        return national_identity_providers(self.server_url, CLIENT_ID, CLIENT_SECRET)

    def sign_in(self, authorize_url, username, password=PROVIDER_PASSWORD):
        """Sign in on the provider's page and follow it to the portal's callback; returns that URL."""
        session = requests.Session()
        session.trust_env = False
        response = session.get(authorize_url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        login_url = urljoin(authorize_url, response.headers["Location"])
        page = session.get(login_url, timeout=10)
        token = session.cookies["csrftoken"]
        next_url = dict(part.split("=", 1) for part in urlsplit(login_url).query.split("&"))["next"]
        response = session.post(
            login_url,
            data={"username": username, "password": password, "csrfmiddlewaretoken": token, "next": requests.utils.unquote(next_url)},
            headers={"Referer": login_url},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, page.text[:300] + response.text[:500]
        response = session.get(urljoin(login_url, response.headers["Location"]), allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_provider(redirect_uris):
    config = {
        "people": [{"username": name, "password": PROVIDER_PASSWORD, "claims": claims} for name, claims in PEOPLE.items()],
        "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(config, handle)
    process = subprocess.Popen(  # noqa: S603 (our own test provider)
        [sys.executable, "-m", "tests.oidc_provider.serve", handle.name],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the test identity provider did not start: {line!r}")
    return Provider(url=f"http://127.0.0.1:{int(line.split()[1])}", process=process)


def free_port():
    """A loopback port with nothing listening (for "the provider is down")."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
