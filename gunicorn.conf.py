"""gunicorn's configuration for the portal (`make serve`, docs/deploy.md).

Every value can be changed from the environment, so that one file serves a laptop
trial, CI's smoke test and a production host. Django's own settings come from the
environment (or .env) as always; with debug off they refuse to start incomplete.
"""

import multiprocessing
import os

wsgi_app = "hukoomi_portal.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: the portal's requests are short and database-bound. WEB_CONCURRENCY is the common name for it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Recycle workers now and then, so that a slow leak never becomes an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# The reverse proxy that terminates TLS sets X-Forwarded-Proto; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load the application in the master, once: a settings error stops gunicorn at start-up instead of
# each worker failing in turn.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# No query strings and no Referer in the access log: a receipt code looked up on /receipts/?code=...
# must not end up in a log the portal writes (docs/secrecy.md).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
