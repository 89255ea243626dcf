"""The checkout's ports without a database or a socket: which side each call goes to at every stage of a
migration, how a failed checkout's remote effects are undone, and what the HTTP adapters send and map back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from monolith.config import Config, ConfigError
from monolith.core.errors import Conflict, DomainError, NotFound, PaymentDeclined, UpstreamUnavailable
from monolith.inventory.errors import InsufficientStock
from monolith.orders.adapters.http import HttpInventory, HttpPayments, HttpShipments
from monolith.orders.adapters.service_client import ServiceClient
from monolith.orders.adapters.tokens import SYSTEM_PRINCIPAL_ID, TokenSigner
from monolith.orders.compensation import Compensations
from monolith.orders.ports import HeldLine, RemoteOutcomeUnknown, ReservationInfo, ShipmentInfo
from monolith.orders.routing import Adapters, CheckoutPorts
from strangler_proxy.buckets import bucket_of, in_canary
from strangler_proxy.model import Mode, Side
from strangler_proxy.ownership import OwnershipView
from strangler_proxy.record_ids import mint_record_id
from strangler_proxy.state import GroupState
from tests.unit.fake_clock import FakeClock

# ---- port selection ---------------------------------------------------------------------------------------------


class FakeStore:
    """The proxy's state store as OwnershipView reads it: the groups' live mode and percent."""

    def __init__(self) -> None:
        self.states: dict[str, GroupState] = {}

    def set(self, group: str, mode: Mode, percent: float = 0.0) -> None:
        self.states[group] = GroupState(mode=mode, percent=percent, updated_at="2025-01-01T00:00:00Z")

    def groups(self) -> dict[str, GroupState]:
        return dict(self.states)

    def close(self) -> None:
        pass


class FakeShipments:
    def __init__(self, side: Side, listed: list[ShipmentInfo] | None = None) -> None:
        self.side, self.remote, self.listed = side, side is Side.SERVICE, listed or []
        self.listings = 0

    def list_for_order(self, *, order_id: uuid.UUID) -> list[ShipmentInfo]:
        self.listings += 1
        return list(self.listed)


class FakeAdapter:
    """A fake adapter that only says which side it stands for."""

    def __init__(self, side: Side) -> None:
        self.side, self.remote = side, side is Side.SERVICE


def ports_with(store: FakeStore | None, clock: FakeClock | None = None) -> tuple[CheckoutPorts, Adapters, Adapters]:
    local = Adapters(FakeAdapter(Side.MONOLITH), FakeAdapter(Side.MONOLITH), FakeShipments(Side.MONOLITH))
    remote = Adapters(FakeAdapter(Side.SERVICE), FakeAdapter(Side.SERVICE), FakeShipments(Side.SERVICE))
    view = OwnershipView(
        None if store is None else "fake://state", opener=lambda url: store, clock=clock or FakeClock()
    )
    return CheckoutPorts(view, local=local, remote=remote), local, remote


def side(port: Any) -> Side:
    return port.side


ORDERS = [uuid.uuid4() for _ in range(300)]


def test_without_a_state_store_every_call_stays_in_process() -> None:
    ports, _, _ = ports_with(None)
    order_id = ORDERS[0]
    assert side(ports.inventory()) is Side.MONOLITH
    assert side(ports.payment_for_order(order_id)) is Side.MONOLITH
    assert side(ports.shipment_for_order(order_id)) is Side.MONOLITH
    assert side(ports.payment(mint_record_id(0))) is Side.MONOLITH
    assert side(ports.shipment(mint_record_id(0))) is Side.MONOLITH


@pytest.mark.parametrize("mode", [Mode.MONOLITH, Mode.SHADOW])
def test_proxied_and_shadowed_groups_leave_every_record_to_the_monolith(mode: Mode) -> None:
    store = FakeStore()
    for group in ("inventory", "payment", "shipment"):
        store.set(group, mode)
    ports, _, _ = ports_with(store)
    assert side(ports.inventory()) is Side.MONOLITH
    assert {side(ports.payment_for_order(o)) for o in ORDERS} == {Side.MONOLITH}
    assert {side(ports.shipment(mint_record_id(b))) for b in (0, 5000, 9999)} == {Side.MONOLITH}


def test_a_canary_creates_an_orders_records_on_the_side_of_the_orders_bucket() -> None:
    store = FakeStore()
    store.set("payment", Mode.CANARY, 30)
    store.set("shipment", Mode.CANARY, 60)
    ports, _, _ = ports_with(store)

    for order_id in ORDERS:
        bucket = bucket_of(str(order_id))
        assert side(ports.payment_for_order(order_id)) is (Side.SERVICE if in_canary(bucket, 30) else Side.MONOLITH)
        assert side(ports.shipment_for_order(order_id)) is (Side.SERVICE if in_canary(bucket, 60) else Side.MONOLITH)
    created = {side(ports.payment_for_order(o)) for o in ORDERS}
    assert created == {Side.MONOLITH, Side.SERVICE}, "300 orders at 30% fall on both sides"


def test_an_existing_record_goes_to_the_side_that_created_it_and_legacy_ids_stay_on_the_monolith() -> None:
    store = FakeStore()
    store.set("payment", Mode.CANARY, 30)
    ports, _, _ = ports_with(store)

    for bucket in (0, 2999, 3000, 9999):
        assert side(ports.payment(mint_record_id(bucket, creator=Side.SERVICE))) is Side.SERVICE
        # The monolith's record stays there even when the percent covers its order's bucket (0, 2999).
        assert side(ports.payment(mint_record_id(bucket, creator=Side.MONOLITH))) is Side.MONOLITH
    assert side(ports.payment(uuid.uuid4())) is Side.MONOLITH  # legacy id: nothing embedded, until cut-over
    # A payment minted by the side the order's bucket picks is found on that side.
    for order_id in ORDERS:
        creator = side(ports.payment_for_order(order_id))
        minted = mint_record_id(bucket_of(str(order_id)), creator=creator)
        assert side(ports.payment(minted)) is creator


def test_inventory_writes_stay_on_the_monolith_through_the_canary_and_move_at_cut_over() -> None:
    store, clock = FakeStore(), FakeClock()
    store.set("inventory", Mode.CANARY, 100)
    ports, _, _ = ports_with(store, clock)
    assert side(ports.inventory()) is Side.MONOLITH, "reads follow the canary; writes wait for the barrier"

    store.set("inventory", Mode.SERVICE)
    clock.advance(0.25)  # the view re-reads the store at the proxy's own polling interval
    assert side(ports.inventory()) is Side.SERVICE


def test_cut_over_moves_every_record_legacy_ones_included() -> None:
    store = FakeStore()
    for group in ("inventory", "payment", "shipment"):
        store.set(group, Mode.SERVICE)
    ports, _, _ = ports_with(store)
    assert side(ports.inventory()) is Side.SERVICE
    assert {side(ports.payment_for_order(o)) for o in ORDERS} == {Side.SERVICE}
    assert side(ports.payment(uuid.uuid4())) is Side.SERVICE
    assert side(ports.shipment(uuid.uuid4())) is Side.SERVICE


def test_an_orders_shipments_are_each_read_from_their_owner() -> None:
    store = FakeStore()
    store.set("shipment", Mode.CANARY, 50)
    ports, local, remote = ports_with(store)
    legacy = ShipmentInfo(uuid.uuid4(), "A", "dispatched")  # made before the canary: the monolith's
    owned = ShipmentInfo(mint_record_id(10, creator=Side.SERVICE), "B", "dispatched")  # the service's
    local.shipment.listed = [legacy, ShipmentInfo(owned.id, "B", "created")]
    remote.shipment.listed = [ShipmentInfo(legacy.id, "A", "created"), owned]

    found = {s.id: s for s in ports.shipments_of_order(ORDERS[0])}

    assert found == {legacy.id: legacy, owned.id: owned}, "each side's replica copy lags; the owner's wins"


def test_shipments_are_not_read_remotely_while_the_monolith_owns_all_of_an_order() -> None:
    store = FakeStore()
    store.set("shipment", Mode.CANARY, 1)
    ports, local, remote = ports_with(store)
    order_id = next(o for o in ORDERS if not in_canary(bucket_of(str(o)), 1))
    local.shipment.listed = [ShipmentInfo(mint_record_id(bucket_of(str(order_id))), "A", "created")]

    assert [s.warehouse for s in ports.shipments_of_order(order_id)] == ["A"]
    assert remote.shipment.listings == 0


# ---- compensations ----------------------------------------------------------------------------------------------


class Remote:
    remote = True


class Local:
    remote = False


def test_a_failed_checkout_undoes_remote_effects_newest_first_and_leaves_local_ones_to_the_rollback() -> None:
    undone: list[str] = []
    undo = Compensations(label="order 1", wait_max=0)
    undo.track(Remote(), "release", lambda: "res-1", lambda r: undone.append(f"release {r}"))
    undo.track(Local(), "void locally", lambda: "pay-local", lambda p: undone.append(f"void {p}"))
    undo.track(Remote(), "void", lambda: "pay-1", lambda p: undone.append(f"void {p}"))

    undo.run()

    assert undone == ["void pay-1", "release res-1"]
    undo.run()
    assert undone == ["void pay-1", "release res-1"], "a second run has nothing left to undo"


def test_a_lost_answer_is_undone_by_replaying_the_call_to_learn_what_it_made() -> None:
    calls, undone = [], []

    def reserve() -> str:
        calls.append("reserve")
        if len(calls) == 1:
            raise RemoteOutcomeUnknown("no answer")
        return "res-7"  # the replay: the service answers with the first call's stored outcome

    undo = Compensations(label="order 2", wait_max=0)
    with pytest.raises(RemoteOutcomeUnknown):
        undo.track(Remote(), "release", reserve, lambda r: undone.append(r))
    undo.run()

    assert calls == ["reserve", "reserve"] and undone == ["res-7"]


def test_a_replay_refused_means_the_lost_call_never_took_effect() -> None:
    calls = 0

    def authorize() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RemoteOutcomeUnknown("no answer")
        raise PaymentDeclined("declined")  # the replay: no stored outcome, so it ran again and was refused

    undone: list[str] = []
    undo = Compensations(label="order 3", wait_max=0)
    with pytest.raises(RemoteOutcomeUnknown):
        undo.track(Remote(), "void", authorize, lambda p: undone.append(p))
    undo.run()
    assert calls == 2 and undone == []


def test_compensations_are_retried_while_the_service_is_unavailable_and_a_lasting_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = {"void": 0, "release": 0}

    def flaky_void(_: str) -> None:
        attempts["void"] += 1
        if attempts["void"] < 3:
            raise UpstreamUnavailable("down")

    def dead_release(_: str) -> None:
        attempts["release"] += 1
        raise UpstreamUnavailable("down")

    undo = Compensations(label="order 4", attempts=4, wait_max=0)
    undo.track(Remote(), "release the reservation", lambda: "res", dead_release)
    undo.track(Remote(), "void the payment", lambda: "pay", flaky_void)
    undo.run()

    assert attempts == {"void": 3, "release": 4}
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["order 4: could not release the reservation (4 attempts); undo it by hand"]


# ---- HTTP adapters ----------------------------------------------------------------------------------------------


class Service:
    """An httpx transport answering as a service would, and recording each request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self, name: str = "inventory") -> ServiceClient:
        return ServiceClient(name, "http://svc.test", signer=TokenSigner(), transport=httpx.MockTransport(self.handle))


def error(status: int, code: str, details: Any = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": f"{code}!", "details": details or {}}})


def claims(request: httpx.Request) -> dict[str, Any]:
    token = AccessToken(request.headers["Authorization"].removeprefix("Bearer "))
    return dict(token.payload)


def test_reserving_posts_the_monolith_api_with_an_order_derived_key_and_a_system_token() -> None:
    reservation_id = uuid.uuid4()
    body = {
        "id": str(reservation_id), "reference": "o-1", "status": "active", "created_at": "", "updated_at": "",
        "lines": [{"warehouse": "A", "sku": "MUG", "quantity": 2, "consumed": False},
                  {"warehouse": "B", "sku": "TEE", "quantity": 1, "consumed": False}],
    }  # fmt: skip
    service = Service(lambda request: httpx.Response(201, json=body))

    held = HttpInventory(service.client()).reserve(reference="o-1", lines=[("MUG", 2), ("TEE", 1)])

    assert held == ReservationInfo(reservation_id, (HeldLine("A", "MUG", 2), HeldLine("B", "TEE", 1)))
    (request,) = service.requests
    assert (request.method, request.url.path) == ("POST", "/api/inventory/reservations/")
    assert json.loads(request.content) == {"reference": "o-1", "lines": [{"sku": "MUG", "quantity": 2},
                                                                         {"sku": "TEE", "quantity": 1}]}  # fmt: skip
    assert request.headers["Idempotency-Key"] == "order:o-1:reserve"
    token = claims(request)
    assert token["sub"] == str(SYSTEM_PRINCIPAL_ID) and "inventory.reserve_stock" in token["perms"]


def test_authorising_is_done_on_the_customers_behalf_and_a_decline_maps_back_to_payment_declined() -> None:
    service = Service(lambda request: error(402, "payment_declined", {"decline_code": "card_declined"}))
    order_id = uuid.uuid4()

    with pytest.raises(PaymentDeclined) as declined:
        HttpPayments(service.client("payment")).authorize(
            customer_id=42, amount=Decimal("12.5"), currency="EUR", card_token="tok_x", order_id=order_id
        )

    assert (declined.value.status, declined.value.code) == (402, "payment_declined")
    assert declined.value.details == {"decline_code": "card_declined"}
    (request,) = service.requests
    assert json.loads(request.content)["amount"] == "12.50"
    assert request.headers["Idempotency-Key"] == f"order:{order_id}:authorize"
    assert claims(request)["sub"] == "42" and claims(request)["perms"] == []


@pytest.mark.parametrize(
    ("answer", "raised", "status", "code"),
    [
        (error(409, "insufficient_stock", {"skus": []}), InsufficientStock, 409, "insufficient_stock"),
        (error(409, "reservation_consumed"), Conflict, 409, "reservation_consumed"),
        (error(404, "reservation_not_found"), NotFound, 404, "reservation_not_found"),
        (error(400, "validation_error"), DomainError, 400, "validation_error"),
        (error(421, "capability_moved"), DomainError, 421, "capability_moved"),
        (error(503, "payment_gateway_unavailable"), UpstreamUnavailable, 503, "payment_gateway_unavailable"),
        (error(401, "authentication_failed"), UpstreamUnavailable, 503, "inventory_refused"),
        (httpx.Response(500, text="<html>"), UpstreamUnavailable, 503, "inventory_failed"),
    ],
)
def test_service_errors_become_the_monolith_errors_with_the_same_answer(
    answer: httpx.Response, raised: type[DomainError], status: int, code: str
) -> None:
    service = Service(lambda request: answer)
    with pytest.raises(DomainError) as caught:
        HttpInventory(service.client()).release(reservation_id=uuid.uuid4())
    assert type(caught.value) is raised
    assert (caught.value.status, caught.value.code) == (status, code)


def test_an_unreachable_service_is_unavailable_and_a_lost_answer_is_an_unknown_outcome() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    refused = Service(refuse)
    with pytest.raises(UpstreamUnavailable) as caught:
        HttpShipments(refused.client("shipment")).cancel(shipment_id=uuid.uuid4())
    assert type(caught.value) is UpstreamUnavailable and caught.value.code == "shipment_unavailable"
    assert len(refused.requests) == 2, "a connection never made sent nothing: tried once more"

    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    slow = Service(time_out)
    with pytest.raises(RemoteOutcomeUnknown):
        HttpShipments(slow.client("shipment")).cancel(shipment_id=uuid.uuid4())
    assert len(slow.requests) == 1, "sent: only the caller, who can undo, may replay it"


def test_an_orders_shipments_are_listed_page_by_page() -> None:
    order_id = uuid.uuid4()
    shipments = [{"id": str(uuid.uuid4()), "warehouse": f"W{n}", "status": "created"} for n in range(3)]

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        results = shipments[offset : offset + 2]
        more = offset + 2 < len(shipments)
        return httpx.Response(200, json={"count": 3, "next": "more" if more else None, "results": results})

    service = Service(page)
    listed = HttpShipments(service.client("shipment")).list_for_order(order_id=order_id)

    assert [s.warehouse for s in listed] == ["W0", "W1", "W2"]
    assert {r.url.params["order_id"] for r in service.requests} == {str(order_id)}
    assert "shipments.view_shipment" in claims(service.requests[0])["perms"]


def test_clients_connect_lazily() -> None:
    service = Service(lambda request: httpx.Response(200, json={}))
    client = service.client()
    assert client._client is None
    client.call("GET", "/x")
    assert client._client is not None
    client.close()
    assert client._client is None


# ---- settings ---------------------------------------------------------------------------------------------------


def test_without_settings_the_monolith_reads_no_state_and_knows_the_local_service_ports() -> None:
    config = Config.from_env({})
    assert config.strangler_state_url is None
    assert (config.inventory_service_url, config.payment_service_url, config.shipment_service_url) == (
        "http://127.0.0.1:8101",
        "http://127.0.0.1:8102",
        "http://127.0.0.1:8103",
    )
    moved = Config.from_env({"STRANGLER_STATE_URL": "sqlite:///s.db", "PAYMENT_SERVICE_URL": "https://pay.internal/"})
    assert (moved.strangler_state_url, moved.payment_service_url) == ("sqlite:///s.db", "https://pay.internal")


def test_a_service_url_that_is_not_http_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="SHIPMENT_SERVICE_URL must be an http:// or https:// URL, got '127.0.0.1"):
        Config.from_env({"SHIPMENT_SERVICE_URL": "127.0.0.1:8103"})
