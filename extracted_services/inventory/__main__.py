"""``python -m extracted_services.inventory <command> [args]``: manage.py for the inventory service."""

from extracted_services.common.commandline import run_manage

if __name__ == "__main__":
    run_manage("extracted_services.inventory.settings")
