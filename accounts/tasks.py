from celery import shared_task

from participation.services import verification


@shared_task(name="accounts.send_verification_emails", acks_late=True, reject_on_worker_lost=True)
def send_verification_emails():
    """Beat: e-mail every verification decision that has not been e-mailed yet (participation/services/verification.py)."""
    return verification.send_pending_decision_emails()
