"""Start the test identity provider: `python -m tests.oidc_provider.serve CONFIG.json`.

CONFIG names the people (username, password, claims) and the portal's client (id, secret, redirect
URIs). The provider migrates a fresh SQLite database, creates them, binds a free loopback port,
prints "PORT <n>" and serves until it is terminated.
"""

import json
import os
import sys
import tempfile
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def rsa_private_key_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def main(config_path):
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    workdir = tempfile.mkdtemp(prefix="oidc-provider-")
    os.environ["OIDC_PROVIDER_DB"] = os.path.join(workdir, "provider.sqlite3")
    os.environ["OIDC_PROVIDER_RSA_KEY"] = rsa_private_key_pem()
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    from tests.oidc_provider.validators import PEOPLE

    call_command("migrate", verbosity=0, interactive=False)
    for person in config["people"]:
        User.objects.create_user(username=person["username"], password=person["password"])
        PEOPLE[person["username"]] = person["claims"]
    client = config["client"]
    Application.objects.create(
        name="Hukoomi e-participation (test)",
        client_id=client["id"],
        client_secret=client["secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    server = make_server("127.0.0.1", 0, get_wsgi_application(), ThreadingWSGIServer, QuietHandler)
    print(f"PORT {server.server_port}", flush=True)
    stopper = threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True)
    stopper.start()
    server.serve_forever()


def _stop_when_stdin_closes(server):
    """The test holds our stdin open; when it goes (the test ended or died), so do we."""
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
