from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from monolith.api.auth import SHOP_APP_LABELS
from monolith.catalog.services import product_upsert
from monolith.core import demo
from monolith.inventory.models import Stock, Warehouse
from monolith.inventory.services import stock_adjust


class Command(BaseCommand):
    help = (
        "Load the demo shop: products, 3 warehouses, stock and demo users (alice, bob: customers; staff: every "
        "shop permission). Idempotent: existing rows are kept, missing ones are added."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stock",
            type=int,
            default=None,
            metavar="QTY",
            help="on-hand units per SKU and warehouse for stock rows this run creates (default: varied demo levels)",
        )

    @transaction.atomic
    def handle(self, *args: Any, stock: int | None, **options: Any) -> None:
        if stock is not None and stock < 0:
            self.stderr.write("seed_demo: --stock must be zero or more")
            raise SystemExit(2)
        for sku, name, price in demo.PRODUCTS:
            product_upsert(sku=sku, name=name, price=price, currency=demo.CURRENCY)
        warehouses = [
            Warehouse.objects.get_or_create(code=code, defaults={"name": name, "priority": priority})[0]
            for code, name, priority in demo.WAREHOUSES
        ]
        created = 0
        for s, (sku, _, _) in enumerate(demo.PRODUCTS):
            for w, warehouse in enumerate(warehouses):
                _, new = Stock.objects.get_or_create(warehouse=warehouse, sku=sku)
                quantity = demo.demo_stock(s, w) if stock is None else stock
                if new and quantity:
                    stock_adjust(
                        warehouse_code=warehouse.code, sku=sku, delta=quantity, reason="demo seed", actor_id=None
                    )
                created += new
        self._users()
        self.stdout.write(
            f"demo shop ready: {len(demo.PRODUCTS)} products, {len(warehouses)} warehouses, "
            f"{created} new stock rows, users: " + ", ".join(u[0] for u in demo.USERS)
        )

    def _users(self) -> None:
        User = get_user_model()
        shop_perms = list(Permission.objects.filter(content_type__app_label__in=SHOP_APP_LABELS))
        for username, password, is_staff, perms in demo.USERS:
            user, new = User.objects.get_or_create(username=username, defaults={"is_staff": is_staff})
            if new:
                user.set_password(password)
                user.save()
            if perms == "all":
                user.user_permissions.add(*shop_perms)
