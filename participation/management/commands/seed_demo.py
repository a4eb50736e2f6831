"""Create demo accounts (and, from later issues, sample items). Safe to run again."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Persona, Segment, User
from participation import demo

DEMO_USERS = [
    # email, full name, segment, personas, identity number, role
    ("admin@demo.hukoomi.qa", "مدير البوابة", "", [], "", "superuser"),
    ("staff@demo.hukoomi.qa", "Mariam Al-Kuwari", "", [], "", "Ministry staff"),
    ("auditor@demo.hukoomi.qa", "Khalid Al-Sulaiti", "", [], "", "Auditors"),
    ("citizen@demo.hukoomi.qa", "Fatima Al-Thani", Segment.CITIZEN, [Persona.PARENT], "28463400001", None),
    ("resident@demo.hukoomi.qa", "Ahmed Hassan", Segment.RESIDENT, [Persona.EMPLOYEE], "28881800002", None),
    ("visitor@demo.hukoomi.qa", "Sara Lopez", Segment.VISITOR, [Persona.STUDENT], "XK1234567", None),
    ("verifier@demo.hukoomi.qa", "Hamad Al-Naimi", "", [], "", "Verifiers"),
]
# People who signed up and wait for a verifier (accounts/verification.py): created once, then left to the
# demo (a verifier approving one is the journey, and seeding again does not undo it).
DEMO_WAITING = [
    ("pending@demo.hukoomi.qa", "نورة المهندي", Segment.CITIZEN, [Persona.EMPLOYEE], "29163400009"),
]


class Command(BaseCommand):
    help = "Create the demo accounts and sample items (idempotent). Refuses to run with debug off unless --force is given."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a known password; with DEBUG off, pass --force.")
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            accounts = [self._user(password, *row) for row in DEMO_USERS]
            demo.seed(accounts)
            for row in DEMO_WAITING:
                self._waiting(password, *row)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {password}):"))
        for email, _name, segment, _personas, _number, role in DEMO_USERS:
            self.stdout.write(f"  {email:<28} {role or segment.value}")
        for email, *_rest in DEMO_WAITING:
            self.stdout.write(f"  {email:<28} waiting for a verifier")

    def _user(self, password, email, full_name, segment, personas, identity_number, role):
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        user.full_name = full_name
        user.segment = segment
        user.personas = personas
        user.identity_number = identity_number
        user.is_staff = role is not None
        user.is_superuser = role == "superuser"
        if identity_number and not user.is_verified:
            user.mark_verified(User.VerificationMethod.STAFF)
        if created or not user.check_password(password):
            user.set_password(password)
        user.save()
        if role and role != "superuser":
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def _waiting(self, password, email, full_name, segment, personas, identity_number):
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "full_name": full_name,
                "segment": segment,
                "identity_number": identity_number,
                "verification_requested_at": timezone.now(),
            },
        )
        if created:
            user.personas = personas
            user.set_password(password)
            user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user
