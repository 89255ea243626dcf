"""``python -m extracted_services.shipment <command> [args]``: manage.py for the shipment service (migrate, runserver,
events_relay, backfill, reconcile, replication_status, replica_receive, ...)."""

from extracted_services.common.commandline import run_manage

if __name__ == "__main__":
    run_manage("extracted_services.shipment.settings")
