from __future__ import annotations

from extracted_services.common.capability import Capability
from extracted_services.common.commands import BackfillCommand
from extracted_services.payment import bootstrap


class Command(BackfillCommand):
    def capability(self) -> Capability:
        return bootstrap.capability()
