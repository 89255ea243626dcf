from __future__ import annotations

from extracted_services.common.capability import Capability
from extracted_services.common.commands import ReplicationStatusCommand
from extracted_services.payment import bootstrap


class Command(ReplicationStatusCommand):
    def capability(self) -> Capability:
        return bootstrap.capability()
