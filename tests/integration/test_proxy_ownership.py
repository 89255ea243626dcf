"""Ownership as the monolith and the services read it: the proxy's rule over the proxy's live state."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.config import load_config
from strangler_proxy.model import Mode, Side
from strangler_proxy.ownership import OwnershipView
from strangler_proxy.record_ids import embedded_bucket, mint_record_id
from strangler_proxy.state import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "strangler_proxy" / "example.yaml"


@pytest.mark.parametrize("bucket", [0, 1, 499, 5000, 9998, 9999])
def test_a_minted_id_carries_its_bucket(bucket: int) -> None:
    record_id = mint_record_id(bucket)
    assert record_id.version == 8
    assert embedded_bucket(record_id) == bucket
    assert embedded_bucket(str(record_id).upper()) == bucket


def test_minted_ids_are_unique_random_ids() -> None:
    ids = {mint_record_id(42) for _ in range(2000)}
    assert len(ids) == 2000


@pytest.mark.parametrize("value", [uuid.uuid4(), str(uuid.uuid4()), "not-a-uuid", "", None, uuid.UUID(int=0)])
def test_other_ids_carry_no_bucket(value: object) -> None:
    assert embedded_bucket(value) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("bucket", [-1, 10_000])
def test_minting_refuses_a_bucket_out_of_range(bucket: int) -> None:
    with pytest.raises(ValueError, match="bucket must be in 0..9999"):
        mint_record_id(bucket)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    store = open_store(url)
    store.seed(load_config(EXAMPLE).groups.values())
    store.close()
    return url


def test_without_a_store_the_monolith_owns_everything() -> None:
    view = OwnershipView(None)
    assert view.owner("payment", key="order-1") is Side.MONOLITH
    assert view.owner_of_record("payment", mint_record_id(0)) is Side.MONOLITH
    assert view.owner("inventory") is Side.MONOLITH


def test_ownership_follows_the_canary_percent_as_the_proxy_routes(tmp_path: Path) -> None:
    url = _store_url(tmp_path)
    clock = Clock()
    view = OwnershipView(url, clock=clock)
    keys = [f"order-{n}" for n in range(400)]
    assert {view.owner("payment", key=k) for k in keys} == {Side.MONOLITH}

    writer = open_store(url)
    writer.change("payment", mode=Mode.CANARY, percent=30, reason="ramp", who="test", automatic=False)
    assert {view.owner("payment", key=k) for k in keys} == {Side.MONOLITH}, "read again only after the ttl"
    clock.now += 0.25
    for key in keys:
        expected = Side.SERVICE if in_canary(bucket_of(key), 30) else Side.MONOLITH
        assert view.owner("payment", key=key) is expected
        # A record stays with the side that created it until cut-over, whatever its order's bucket says now.
        assert view.owner_of_record("payment", mint_record_id(bucket_of(key), creator=expected)) is expected
        assert view.owner_of_record("payment", mint_record_id(bucket_of(key))) is Side.MONOLITH
    assert 60 < sum(view.owner("payment", key=k) is Side.SERVICE for k in keys) < 180
    assert view.owner_of_record("payment", uuid.uuid4()) is Side.MONOLITH, "legacy ids stay until cut-over"
    assert view.owner("inventory") is Side.MONOLITH

    writer.change("payment", mode=Mode.SERVICE, percent=30, reason="cut over", who="test", automatic=False)
    clock.now += 0.25
    assert view.owner_of_record("payment", uuid.uuid4()) is Side.SERVICE
    assert view.owner("payment") is Side.SERVICE
    writer.close()
    view.close()


def test_shadow_keeps_every_record_on_the_monolith(tmp_path: Path) -> None:
    url = _store_url(tmp_path)
    writer = open_store(url)
    writer.change("shipment", mode=Mode.SHADOW, percent=50, reason="shadow", who="test", automatic=False)
    view = OwnershipView(url)
    assert {view.owner("shipment", key=f"o{n}") for n in range(100)} == {Side.MONOLITH}
    writer.close()
    view.close()


def test_writes_of_a_capability_that_moves_at_cut_over_stay_on_the_monolith_until_service_mode(
    tmp_path: Path,
) -> None:
    url = _store_url(tmp_path)
    clock = Clock()
    view = OwnershipView(url, clock=clock)
    writer = open_store(url)
    seen = []
    for mode, percent in ((Mode.SHADOW, 0), (Mode.CANARY, 50), (Mode.CANARY, 100), (Mode.SERVICE, 100)):
        writer.change("inventory", mode=mode, percent=percent, reason="step", who="test", automatic=False)
        clock.now += 0.25
        seen.append((view.owner_of_writes("inventory"), view.owner("inventory", key="MUG")))
    inventory_reads_at_50 = Side.SERVICE if in_canary(bucket_of("MUG"), 50) else Side.MONOLITH
    assert seen == [
        (Side.MONOLITH, Side.MONOLITH),
        (Side.MONOLITH, inventory_reads_at_50),
        (Side.MONOLITH, Side.SERVICE),  # reads at 100 %, writes still on the monolith: the proxy does the same
        (Side.SERVICE, Side.SERVICE),
    ]
    writer.close()
    view.close()
