"""Where the DynamoDB adapter keeps inventory: region, endpoint and table names, read once from the environment.

::

    settings = DynamoDbSettings.from_env(os.environ)      # in the service's settings.py, no I/O
    settings.tables.stock                                  # "inventory-stock" with the default prefix

=====================================  ==============  ==========================================================
variable                               default         meaning
=====================================  ==============  ==========================================================
``INVENTORY_DYNAMODB_TABLE_PREFIX``    ``inventory-``  prepended to each table name (one set of tables a prefix)
``INVENTORY_DYNAMODB_ENDPOINT_URL``    unset           DynamoDB's endpoint, for moto or DynamoDB Local
``AWS_DEFAULT_REGION``                 unset           the region (unset: boto3's own configuration decides)
=====================================  ==============  ==========================================================

Credentials are boto3's usual ones (environment, profile, role); they are never read here. This module imports
neither Django nor boto3, so ``settings.py`` can build it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from extracted_services.common.config import ConfigError

DEFAULT_PREFIX = "inventory-"
_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{0,200}$")  # DynamoDB table names: 3-255 of these characters
_REGION = re.compile(r"^[a-z0-9-]{2,32}$")


@dataclass(frozen=True)
class TableNames:
    """The five tables, by role (docs/aws.md, "Inventory on DynamoDB")."""

    warehouses: str
    stock: str
    reservations: str
    adjustments: str
    outbox: str

    @classmethod
    def with_prefix(cls, prefix: str) -> TableNames:
        return cls(*(prefix + role for role in ("warehouses", "stock", "reservations", "adjustments", "outbox")))

    def all(self) -> tuple[str, ...]:
        return (self.warehouses, self.stock, self.reservations, self.adjustments, self.outbox)


@dataclass(frozen=True, kw_only=True)
class DynamoDbSettings:
    region: str | None
    endpoint_url: str | None
    table_prefix: str

    @property
    def tables(self) -> TableNames:
        return TableNames.with_prefix(self.table_prefix)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DynamoDbSettings:
        prefix = environ.get("INVENTORY_DYNAMODB_TABLE_PREFIX", DEFAULT_PREFIX).strip()
        if not _PREFIX.match(prefix):
            raise ConfigError(
                f"INVENTORY_DYNAMODB_TABLE_PREFIX must be at most 200 letters, digits, '_', '-' or '.', got {prefix!r}"
            )
        endpoint = environ.get("INVENTORY_DYNAMODB_ENDPOINT_URL", "").strip() or None
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"INVENTORY_DYNAMODB_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
        region = environ.get("AWS_DEFAULT_REGION", "").strip() or None
        if region is not None and not _REGION.match(region):
            raise ConfigError(f"AWS_DEFAULT_REGION must be a region name such as eu-west-1, got {region!r}")
        return cls(region=region, endpoint_url=endpoint, table_prefix=prefix)
