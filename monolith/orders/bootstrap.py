"""The composition root of the checkout's ports: built once, on first use, from settings.

::

    checkout_ports().inventory().reserve(...)

``STRANGLER_STATE_URL`` unset: nothing is read and every call stays in process (the monolith as it always was).
Set: ownership is read from the proxy's state store and calls to records the services own go over HTTP to
``INVENTORY_SERVICE_URL``, ``PAYMENT_SERVICE_URL`` and ``SHIPMENT_SERVICE_URL``. No connection is opened before
the first call that needs it.
"""

from __future__ import annotations

import threading

import httpx
from django.conf import settings

from monolith.orders.adapters.http import HttpInventory, HttpPayments, HttpShipments
from monolith.orders.adapters.local import LocalInventory, LocalPayments, LocalShipments
from monolith.orders.adapters.service_client import ServiceClient
from monolith.orders.adapters.tokens import TokenSigner
from monolith.orders.routing import Adapters, CheckoutPorts
from strangler_proxy.ownership import OwnershipView

_lock = threading.Lock()
_ports: CheckoutPorts | None = None


def build_ports(
    *,
    state_url: str | None,
    inventory_url: str,
    payment_url: str,
    shipment_url: str,
    transport: httpx.BaseTransport | None = None,
) -> CheckoutPorts:
    signer = TokenSigner()
    inventory, payment, shipment = (
        ServiceClient(name, url, signer=signer, transport=transport)
        for name, url in (("inventory", inventory_url), ("payment", payment_url), ("shipment", shipment_url))
    )
    view = OwnershipView(state_url)
    return CheckoutPorts(
        view,
        local=Adapters(LocalInventory(), LocalPayments(), LocalShipments()),
        remote=Adapters(HttpInventory(inventory), HttpPayments(payment), HttpShipments(shipment)),
        closers=(inventory.close, payment.close, shipment.close, view.close),
    )


def checkout_ports() -> CheckoutPorts:
    global _ports
    with _lock:
        if _ports is None:
            _ports = build_ports(
                state_url=settings.STRANGLER_STATE_URL,
                inventory_url=settings.INVENTORY_SERVICE_URL,
                payment_url=settings.PAYMENT_SERVICE_URL,
                shipment_url=settings.SHIPMENT_SERVICE_URL,
            )
        return _ports


def reset_ports() -> None:
    """Close the clients and the state store; the next call builds afresh from settings (tests, reconfiguring)."""
    global _ports
    with _lock:
        if _ports is not None:
            _ports.close()
        _ports = None
