"""The demo shop's data: what ``manage.py seed_demo`` loads."""

from __future__ import annotations

from decimal import Decimal

WAREHOUSES = (
    # code, name, priority (lower ships first)
    ("BER-1", "Berlin", 10),
    ("HAM-1", "Hamburg", 20),
    ("MUC-1", "Munich", 30),
)

PRODUCTS = (
    ("TEE-BLACK-M", "Black T-shirt, M", Decimal("19.90")),
    ("TEE-BLACK-L", "Black T-shirt, L", Decimal("19.90")),
    ("TEE-WHITE-M", "White T-shirt, M", Decimal("19.90")),
    ("HOODIE-GREY-M", "Grey hoodie, M", Decimal("49.00")),
    ("HOODIE-GREY-L", "Grey hoodie, L", Decimal("49.00")),
    ("MUG-LOGO", "Logo mug", Decimal("12.50")),
    ("CAP-NAVY", "Navy cap", Decimal("22.00")),
    ("SOCKS-3PACK", "Socks, 3-pack", Decimal("14.95")),
    ("TOTE-CANVAS", "Canvas tote bag", Decimal("17.00")),
    ("BOTTLE-STEEL", "Steel bottle", Decimal("29.90")),
    ("NOTEBOOK-A5", "A5 notebook", Decimal("9.50")),
    ("STICKER-PACK", "Sticker pack", Decimal("4.99")),
)
CURRENCY = "EUR"


def demo_stock(sku_index: int, warehouse_index: int) -> int:
    """A varied but fixed stock level, so some orders ship from one warehouse and some split."""
    return (10, 25, 0, 40, 5, 60, 15, 30, 0, 20, 50, 100)[sku_index] // (warehouse_index + 1)


# username, password, is_staff, permissions ("all" = every shop permission)
USERS = (
    ("alice", "alice-password", False, ()),
    ("bob", "bob-password", False, ()),
    ("staff", "staff-password", True, "all"),
)
