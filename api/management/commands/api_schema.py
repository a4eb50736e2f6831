"""Write the OpenAPI schema of /api/v1/ to docs/api/openapi-v1.yaml (or print it with --print)."""

from django.core.management.base import BaseCommand

from api.schema import COMMITTED, schema_yaml


class Command(BaseCommand):
    help = "Write the generated OpenAPI schema of /api/v1/ to docs/api/openapi-v1.yaml, the file the schema test compares with."

    def add_arguments(self, parser):
        parser.add_argument("--print", action="store_true", dest="print_only", help="Print the schema instead of writing the file.")

    def handle(self, *args, print_only=False, **options):
        text = schema_yaml()
        if print_only:
            self.stdout.write(text, ending="")
            return
        COMMITTED.write_text(text, encoding="utf-8")
        if options["verbosity"]:
            self.stdout.write(f"Wrote {COMMITTED}")
