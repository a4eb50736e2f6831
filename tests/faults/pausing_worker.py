"""A Celery worker whose first tally stops inside its transaction, so that a test can kill it there.

Only tests/faults/test_worker_killed.py starts it: `python -m tests.faults.pausing_worker <celery worker args>`.
The first tally to reach verification.tally_details (inside tally()'s transaction, after the
Result row is inserted and before the commit) writes its process id to $FAULTS_PAUSE_FILE and
sleeps; the test then kills that process with SIGKILL. Once the file exists no tally pauses again,
so the redelivered task runs through. Nothing in the portal's code knows about this.
"""

import os
import sys
import time

import django

PAUSE_SECONDS = 120


def install_pause():
    from participation import verification

    original = verification.tally_details
    marker = os.environ["FAULTS_PAUSE_FILE"]

    def pausing_tally_details(result):
        if not os.path.exists(marker):
            with open(marker, "w") as file:
                file.write(str(os.getpid()))
            time.sleep(PAUSE_SECONDS)  # killed here, with the Result inserted and not committed
        return original(result)

    verification.tally_details = pausing_tally_details


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hukoomi_portal.test_settings")
    django.setup()
    install_pause()
    from hukoomi_portal.celery import app

    app.worker_main(["worker", *sys.argv[1:]])
