from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from monolith.catalog.models import Product
from monolith.core import demo
from monolith.inventory.models import Stock, StockAdjustment, Warehouse

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_shop_and_is_idempotent() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    first = (Product.objects.count(), Warehouse.objects.count(), Stock.objects.count(), StockAdjustment.objects.count())
    levels = sorted(Stock.objects.values_list("sku", "warehouse__code", "on_hand"))

    call_command("seed_demo", stdout=io.StringIO())

    assert first == (len(demo.PRODUCTS), 3, len(demo.PRODUCTS) * 3, first[3])
    assert (Product.objects.count(), Stock.objects.count(), StockAdjustment.objects.count()) == (
        first[0],
        first[2],
        first[3],
    )
    assert sorted(Stock.objects.values_list("sku", "warehouse__code", "on_hand")) == levels
    staff = get_user_model().objects.get(username="staff")
    assert staff.has_perm("payments.capture_payment") and staff.has_perm("inventory.adjust_stock")
    assert not get_user_model().objects.get(username="alice").has_perm("payments.capture_payment")


def test_seed_demo_stock_option_sets_every_new_row() -> None:
    call_command("seed_demo", "--stock", "500", stdout=io.StringIO())
    assert set(Stock.objects.values_list("on_hand", flat=True)) == {500}


def test_seed_demo_refuses_negative_stock_with_exit_2() -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("seed_demo", "--stock", "-1", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert "--stock must be zero or more" in err.getvalue()
    assert Product.objects.count() == 0


def test_issue_token_for_unknown_user_exits_2_naming_it() -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("issue_token", "nobody", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert "no user named 'nobody'" in err.getvalue()
