"""Django's flush, able to empty a SQLite database whose triggers refuse deletions.

The frozen-content triggers (migration 0009_frozen_content) refuse deleting
an item that has opened, its questions and its sections. PostgreSQL's flush
uses TRUNCATE, which row triggers do not see; SQLite's uses DELETE FROM, which
they do, so emptying the database (as every transactional test does when it
ends) would be refused. On SQLite the triggers are therefore dropped for the
flush and created again, in one transaction: whatever happens, the database
is never left without them.
"""

from django.core.management.commands import flush
from django.db import connections, transaction


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            super().handle(**options)
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
        return None
