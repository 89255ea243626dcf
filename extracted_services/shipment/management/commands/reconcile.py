from __future__ import annotations

from extracted_services.common.capability import Capability
from extracted_services.common.commands import ReconcileCommand
from extracted_services.shipment import bootstrap


class Command(ReconcileCommand):
    def capability(self) -> Capability:
        return bootstrap.capability()
