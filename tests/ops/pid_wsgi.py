"""The portal's WSGI application, with the serving worker's process id in an X-Worker-Pid header.

Only for tests that must show which gunicorn worker answered (tests/ops/test_login_limit_workers.py).
"""

import os

from hukoomi_portal.wsgi import application as portal


def application(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

    return portal(environ, start)
