"""The checkout ports' adapters: in process (the monolith's own services) and over HTTP (the services' API)."""

from monolith.orders.adapters.http import HttpInventory, HttpPayments, HttpShipments
from monolith.orders.adapters.local import LocalInventory, LocalPayments, LocalShipments
from monolith.orders.adapters.service_client import ServiceClient
from monolith.orders.adapters.tokens import TokenSigner

__all__ = [
    "HttpInventory",
    "HttpPayments",
    "HttpShipments",
    "LocalInventory",
    "LocalPayments",
    "LocalShipments",
    "ServiceClient",
    "TokenSigner",
]
