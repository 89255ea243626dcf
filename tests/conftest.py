from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.services import IN_CI, reachable

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        url = urlparse(DATABASE_URL)
        host, port = url.hostname or "127.0.0.1", url.port or 5432
        if not reachable(host, port):
            message = f"PostgreSQL is not reachable at {host}:{port}"
            if IN_CI:
                raise pytest.UsageError(message + " (required under CI=true)")
            for item in items:
                item.add_marker(pytest.mark.skip(reason=message))
        return
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of make test")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip_pg)


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    def make(username: str, *, perms: tuple[str, ...] = (), is_staff: bool = False) -> Any:
        user = get_user_model().objects.create_user(username=username, password=None, is_staff=is_staff)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return make


@pytest.fixture
def client_for() -> Callable[[Any], Any]:
    """An APIClient authenticated with a real bearer token for ``user`` (or anonymous for None)."""
    from rest_framework.test import APIClient

    from monolith.api.auth import issue_access_token

    def make(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token(user)}")
        return client

    return make


STAFF_PERMS = (
    "inventory.adjust_stock",
    "inventory.reserve_stock",
    "inventory.view_reservation",
    "payments.capture_payment",
    "payments.void_payment",
    "payments.refund_payment",
    "payments.view_payment",
    "shipments.create_shipment",
    "shipments.dispatch_shipment",
    "shipments.deliver_shipment",
    "shipments.cancel_shipment",
    "shipments.view_shipment",
    "orders.view_order",
    "orders.cancel_any_order",
)


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., Any]) -> Any:
    return make_user("bob")


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> Any:
    return make_user("staff", perms=STAFF_PERMS, is_staff=True)


@pytest.fixture
def shop(db: None) -> dict[str, Any]:
    """A small shop: 3 products (EUR) and one in USD; warehouses A (rank 1) and B (rank 2) with fixed stock."""
    from decimal import Decimal

    from monolith.catalog.services import product_upsert
    from monolith.inventory.models import Warehouse
    from monolith.inventory.services import stock_adjust

    product_upsert(sku="MUG", name="Mug", price=Decimal("12.50"), currency="EUR")
    product_upsert(sku="TEE", name="T-shirt", price=Decimal("19.90"), currency="EUR")
    product_upsert(sku="CAP", name="Cap", price=Decimal("22.00"), currency="EUR")
    product_upsert(sku="HAT-US", name="US hat", price=Decimal("30.00"), currency="USD")
    product_upsert(sku="OLD", name="Retired", price=Decimal("1.00"), currency="EUR", active=False)
    Warehouse.objects.create(code="A", name="Alpha", priority=1)
    Warehouse.objects.create(code="B", name="Beta", priority=2)
    levels = {("A", "MUG"): 5, ("B", "MUG"): 5, ("A", "TEE"): 2, ("B", "TEE"): 10, ("B", "CAP"): 3, ("A", "HAT-US"): 9}
    for (warehouse, sku), quantity in levels.items():
        stock_adjust(warehouse_code=warehouse, sku=sku, delta=quantity, reason="test stock", actor_id=None)
    return {"levels": levels}
