"""PostgreSQL: vacuum ``events_outboxpending`` after every few thousand deletions, not after 20% of the table.

The relay deletes a pending row per event sent and reads the table from its oldest id, so dead index entries
left at the head of the table slow every read until they are vacuumed. Elsewhere this migration does nothing.
"""

from django.db import migrations


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE events_outboxpending SET (autovacuum_vacuum_scale_factor = 0.0, "
            "autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0)"
        )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE events_outboxpending RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
            "autovacuum_vacuum_cost_delay)"
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0003_outbox_pending")]

    operations = [migrations.RunPython(tune, untune)]
