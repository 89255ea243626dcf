"""What the extracted services share: config, settings builder, internal-token check, replication status,
backfill and reconcile engines (docs/extraction.md). A Django app too (label ``service_common``): its tables hold
the backfill's checkpoints and the replica's watermarks in each service's own database."""
