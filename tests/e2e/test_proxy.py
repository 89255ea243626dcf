"""The strangler proxy as a real process between a client, the monolith under gunicorn and a stand-in service.

One monolith, one stand-in and one shared proxy serve the whole module; each test starts with every group in
monolith mode and the stand-in answering normally. Tests that make the service fail get a proxy process of their
own (same config, same state file), because circuit breakers and rollback windows live in a proxy's memory and
would carry one test's failures into the next.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import LiveMonolith, free_port, manage, start_monolith, wait_for
from tests.e2e.proxy_support import (
    TIMEOUT,
    LiveProxy,
    StandIn,
    start_proxy,
    start_stand_in,
    write_cutover_config,
    write_proxy_config,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

STOCK = "/api/inventory/stock/MUG-LOGO/"
ADJUSTMENTS = "/api/inventory/adjustments/"
MAX_BODY_BYTES = 4096
GROUPS = ("inventory", "ghost")


@dataclass
class Stack:
    monolith: LiveMonolith
    stand_in: StandIn
    proxy: LiveProxy  # shared by the module
    config: Path
    workdir: Path
    ops_token: str  # the file's admin token named "ops-alice"
    env_token: str  # STRANGLER_ADMIN_TOKEN, named "env"
    staff_token: str  # a monolith user allowed to adjust stock

    def start_proxy(self, name: str) -> LiveProxy:
        return start_proxy(name, self.config, self.workdir, admin_token=self.env_token)

    def monolith_stock(self) -> dict[str, Any]:
        response = httpx.get(self.monolith.base_url + STOCK, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with ExitStack() as cleanup:  # unwinds in reverse, each step even when an earlier one raised
        workdir = Path(tempfile.mkdtemp(prefix="proxy-e2e-"))  # logs, config, SQLite files
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        monolith = start_monolith(workdir, workers=4)
        cleanup.callback(monolith.stop)
        staff_token = manage("issue_token", "staff", env=monolith.env)
        stand_in = start_stand_in(workdir)
        cleanup.callback(stand_in.stop)
        ops_token, env_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        config = write_proxy_config(
            workdir / "proxy.yaml", monolith_url=monolith.base_url, stand_in_url=stand_in.base_url,
            closed_url=f"http://127.0.0.1:{free_port()}", state_path=workdir / "proxy-state.sqlite3",
            tokens={"ops-alice": ops_token}, max_body_bytes=MAX_BODY_BYTES,
        )  # fmt: skip
        proxy = start_proxy("proxy-shared", config, workdir, admin_token=env_token)
        cleanup.callback(proxy.stop)
        yield Stack(monolith, stand_in, proxy, config, workdir, ops_token, env_token, staff_token)


@pytest.fixture
def clean(stack: Stack) -> Stack:
    """Every group back in monolith mode (through the shared proxy) and the stand-in back to its defaults."""
    stack.stand_in.reset()
    for group in GROUPS:  # unconditionally: this instance may not have polled another one's last flip yet
        stack.proxy.flip(group, mode="monolith", percent=0, reason="e2e: reset between tests")
    return stack


@pytest.fixture
def own_proxy(clean: Stack) -> Iterator[LiveProxy]:
    """A proxy process of the test's own, with fresh breakers and rollback windows, on the module's state file."""
    proxy = clean.start_proxy("proxy-own")
    try:
        yield proxy
    finally:
        proxy.stop()


def get(proxy: LiveProxy, path: str = STOCK, **headers: str) -> httpx.Response:
    return httpx.get(proxy.base_url + path, headers=headers, timeout=TIMEOUT)


def served_by(response: httpx.Response) -> str:
    return str(response.headers.get("x-strangler-upstream", "<none>"))


def assert_json_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return dict(error)


def header(request: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in request["headers"] if key == name]


# --- 1. flipping modes through the admin API ----------------------------------------------------------------------


def test_a_flip_through_the_admin_api_moves_the_stock_read_and_is_audited(clean: Stack) -> None:
    proxy, stand_in = clean.proxy, clean.stand_in
    monolith_body = clean.monolith_stock()
    before = get(proxy)
    assert served_by(before) == "monolith" and before.json() == monolith_body

    flipped = proxy.flip("inventory", mode="service", reason="e2e: inventory takes stock reads", token=clean.ops_token)
    assert flipped["group"]["mode"] == "service"
    after = get(proxy)
    assert after.status_code == 200 and served_by(after) == "inventory"
    assert after.json()["warehouses"][0]["warehouse"] == "STAND-IN-1"
    assert [(r["method"], r["path"]) for r in stand_in.seen()] == [("GET", STOCK)]

    proxy.flip("inventory", mode="monolith", reason="e2e: hand stock reads back", token=clean.ops_token)
    back = get(proxy)
    assert served_by(back) == "monolith" and back.json() == monolith_body
    assert len(stand_in.seen()) == 1

    newest, older, reset = proxy.audit("inventory")[:3]
    assert (reset["who"], reset["reason"]) == ("env", "e2e: reset between tests")  # STRANGLER_ADMIN_TOKEN's name
    assert (older["who"], older["old_mode"], older["new_mode"], older["reason"], older["automatic"]) == (
        "ops-alice", "monolith", "service", "e2e: inventory takes stock reads", False,
    )  # fmt: skip
    assert (newest["who"], newest["old_mode"], newest["new_mode"], newest["reason"]) == (
        "ops-alice", "service", "monolith", "e2e: hand stock reads back",
    )  # fmt: skip


def test_the_admin_api_refuses_bad_tokens_bad_input_and_unknown_groups_with_json(clean: Stack) -> None:
    proxy = clean.proxy
    audit_before = proxy.audit("inventory")
    change = {"mode": "service", "reason": "e2e"}

    assert_json_error(proxy.admin("PATCH", "/routes/inventory", token="not-the-token", json=change), 401)
    no_token = httpx.patch(f"{proxy.admin_url}/routes/inventory", json=change, timeout=TIMEOUT)
    assert_json_error(no_token, 401)
    assert_json_error(proxy.admin("GET", "/audit", token="not-the-token"), 401)
    for bad in (
        {"mode": "canary", "percent": 150, "reason": "too much"},
        {"mode": "sideways", "reason": "no such mode"},
        {"mode": "service"},  # no reason
        {"mode": "service", "reason": "   "},
        {"mode": "canary", "percent": "50", "reason": "a string"},
    ):
        assert_json_error(proxy.admin("PATCH", "/routes/inventory", json=bad), 400)
    assert_json_error(proxy.admin("PATCH", "/routes/no-such-group", json=change), 404)

    assert (proxy.group("inventory")["mode"], proxy.group("inventory")["percent"]) == ("monolith", 0.0)
    assert proxy.audit("inventory") == audit_before  # nothing half-written
    assert served_by(get(proxy)) == "monolith"


# --- 2. sticky canary ---------------------------------------------------------------------------------------------


def test_canary_keeps_each_customer_on_one_side_and_raising_the_percent_only_adds_customers(clean: Stack) -> None:
    proxy = clean.proxy
    customers = [f"customer-{n}" for n in range(100)]

    def sides(repeat: int) -> dict[str, set[str]]:
        with httpx.Client(base_url=proxy.base_url, timeout=TIMEOUT) as client:

            def one(customer: str) -> tuple[str, str]:
                response = client.get(STOCK, headers={"X-Customer-Id": customer})
                assert response.status_code == 200, response.text
                return customer, served_by(response)

            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(one, [c for c in customers for _ in range(repeat)]))
        found: dict[str, set[str]] = {}
        for customer, side in answers:
            found.setdefault(customer, set()).add(side)
        return found

    proxy.flip("inventory", mode="canary", percent=30, reason="e2e: canary 30%")
    at_30 = sides(repeat=10)  # 1,000 requests
    assert all(len(seen) == 1 for seen in at_30.values()), {c: s for c, s in at_30.items() if len(s) > 1}
    on_service_30 = {c for c, seen in at_30.items() if seen == {"inventory"}}
    assert 15 <= len(on_service_30) <= 45, len(on_service_30)  # about 30 of 100 keys (fixed keys: deterministic)

    proxy.flip("inventory", percent=60, reason="e2e: canary 60%")
    at_60 = sides(repeat=3)
    assert all(len(seen) == 1 for seen in at_60.values())
    on_service_60 = {c for c, seen in at_60.items() if seen == {"inventory"}}
    assert on_service_30 <= on_service_60, sorted(on_service_30 - on_service_60)  # nobody moved back
    assert len(on_service_60) > len(on_service_30) + 15

    without_key = [served_by(get(proxy)) for _ in range(20)]
    assert set(without_key) == {"monolith"}  # the group's default side


# --- 3. shadow ----------------------------------------------------------------------------------------------------


def test_shadow_answers_from_the_monolith_and_stores_a_seeded_difference_with_a_readable_diff(clean: Stack) -> None:
    proxy, stand_in = clean.proxy, clean.stand_in
    monolith_body = clean.monolith_stock()
    stand_in.control(body=monolith_body)  # the service agrees with the monolith...
    proxy.flip("inventory", mode="shadow", reason="e2e: shadow")
    secret = f"Bearer {clean.staff_token}"  # a real credential: the monolith accepts it, the record must not keep it

    write = httpx.post(proxy.base_url + ADJUSTMENTS, json={"sku": "MUG-LOGO"}, timeout=TIMEOUT)
    assert served_by(write) == "monolith" and write.status_code == 401  # writes: skip (never copied)
    same = get(proxy, **{"X-Request-ID": "e2e-shadow-same"})
    assert served_by(same) == "monolith" and same.json() == monolith_body
    wait_for("the stand-in to get the first copy", lambda: len(stand_in.seen()) == 1, 5, 0.05)
    stand_in.control(diff=True)  # ...then differs in $.total.available
    differing = get(proxy, **{"X-Request-ID": "e2e-shadow-diff", "Authorization": secret})
    assert served_by(differing) == "monolith" and differing.json() == monolith_body  # the client never sees it

    def window() -> dict[str, Any]:
        return dict(proxy.group("inventory")["window"])

    wait_for("both copies compared", lambda: window()["shadow_compared"] >= 2, 5, 0.05, progress=lambda: str(window()))
    summaries = proxy.admin("GET", "/mismatches?group=inventory").json()["mismatches"]
    assert len(summaries) == 1, summaries  # the agreeing copy is no mismatch
    assert summaries[0]["target"] == STOCK and summaries[0]["statuses"] == [200, 200]

    record = proxy.admin("GET", f"/mismatches/{summaries[0]['id']}").json()
    assert json.loads(record["monolith"]["body"]) == monolith_body
    assert json.loads(record["service"]["body"])["total"]["available"] == monolith_body["total"]["available"] + 1
    assert record["request"]["method"] == "GET" and record["request"]["target"] == STOCK
    assert record["request"]["request_id"] == "e2e-shadow-diff"
    assert ["authorization", "[redacted]"] in record["request"]["headers"]
    assert clean.staff_token not in json.dumps(record)
    assert "$.total.available" in record["diff"]
    assert "$.warehouses" not in record["diff"] and "$.sku" not in record["diff"]

    copies = stand_in.seen()
    assert [c["method"] for c in copies] == ["GET", "GET"]  # the POST was never copied
    assert all(header(c, "x-strangler-shadow") == ["1"] for c in copies)
    assert header(copies[1], "x-request-id") == ["e2e-shadow-diff"]


# --- 4. fallback --------------------------------------------------------------------------------------------------


def test_a_failing_or_slow_service_falls_back_for_reads_but_a_write_is_never_resent(
    clean: Stack, own_proxy: LiveProxy
) -> None:
    stand_in, proxy = clean.stand_in, own_proxy
    adjustment = {"warehouse": "BER-1", "sku": "MUG-LOGO", "delta": 1, "reason": "e2e write"}
    staff = {"Authorization": f"Bearer {clean.staff_token}"}
    # Control: through the proxy in monolith mode the write reaches the monolith and moves the stock.
    on_hand = clean.monolith_stock()["total"]["on_hand"]
    control = httpx.post(proxy.base_url + ADJUSTMENTS, json=adjustment, headers=staff, timeout=TIMEOUT)
    assert control.status_code == 201 and served_by(control) == "monolith", control.text
    assert clean.monolith_stock()["total"]["on_hand"] == on_hand + 1

    proxy.flip("inventory", mode="service", reason="e2e: fallback")
    monolith_body = clean.monolith_stock()
    stand_in.control(status=500)
    failed = get(proxy)
    assert failed.status_code == 200 and served_by(failed) == "monolith" and failed.json() == monolith_body

    stand_in.control(status=200, delay=2.0)  # over the service's 1 s read timeout
    started = time.monotonic()
    slow = get(proxy)
    assert slow.status_code == 200 and served_by(slow) == "monolith" and slow.json() == monolith_body
    assert time.monotonic() - started < 1.9  # the proxy gave up on the service; it did not wait it out
    assert [r["method"] for r in stand_in.seen()] == ["GET", "GET"]  # both were tried on the service first

    stand_in.control(status=500, delay=0)
    write = httpx.post(proxy.base_url + ADJUSTMENTS, json=adjustment, headers=staff, timeout=TIMEOUT)
    assert write.status_code == 500 and served_by(write) == "inventory", write.text
    assert write.json()["error"]["code"] == "stand_in_failure"  # the service's own answer stands
    posts = [r for r in stand_in.seen() if r["method"] == "POST"]
    assert len(posts) == 1 and json.loads(posts[0]["body"]) == adjustment
    assert clean.monolith_stock()["total"]["on_hand"] == on_hand + 1  # not re-sent to the monolith


# --- 5. circuit breaker -------------------------------------------------------------------------------------------


def test_the_breaker_spares_a_failing_service_then_lets_one_trial_through(clean: Stack, own_proxy: LiveProxy) -> None:
    stand_in, proxy = clean.stand_in, own_proxy
    proxy.flip("inventory", mode="service", reason="e2e: breaker")
    stand_in.control(status=503)
    for _ in range(3):  # breaker.failures
        assert served_by(get(proxy)) == "monolith"
    opened = time.monotonic()
    assert len(stand_in.seen()) == 3
    assert proxy.group("inventory")["breaker"] == "open"

    # Few enough to stay under the rollback's min_requests (10): refusals while open count as service errors.
    for _ in range(5):
        response = get(proxy)
        assert response.status_code == 200 and served_by(response) == "monolith"
    assert len(stand_in.seen()) == 3  # not even tried while open

    stand_in.control(status=200, delay=0.5)  # healthy again, and slow enough for requests to overlap the trial
    wait_for("the breaker to half-open", lambda: proxy.group("inventory")["breaker"] == "half_open", 5, 0.05)
    assert time.monotonic() - opened >= 1.8  # breaker.open_seconds is 2
    assert len(stand_in.seen()) == 3
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: get(proxy), range(5)))
    assert all(a.status_code == 200 for a in answers)
    assert sorted(served_by(a) for a in answers) == ["inventory"] + ["monolith"] * 4  # exactly one trial
    assert len(stand_in.seen()) == 4

    assert proxy.group("inventory")["breaker"] == "closed"  # the trial succeeded
    assert served_by(get(proxy)) == "inventory" and len(stand_in.seen()) == 5


# --- 6. automatic rollback ----------------------------------------------------------------------------------------


def wait_for_automatic_rollback(proxy: LiveProxy, deadline_s: float) -> dict[str, Any]:
    def mode() -> str:
        return str(proxy.admin("GET", "/routes").json()["groups"][0]["mode"])

    wait_for("the inventory group to roll back", lambda: mode() == "monolith", deadline_s, 0.1, progress=mode)
    entry = proxy.audit("inventory")[0]
    assert (entry["who"], entry["automatic"], entry["old_mode"], entry["new_mode"]) == (
        "automatic", True, "canary", "monolith",
    )  # fmt: skip
    assert "error rate" in entry["reason"] and "exceeds 50" in entry["reason"], entry["reason"]
    return entry


def test_a_burst_of_service_errors_rolls_the_group_back_automatically_and_audited(
    clean: Stack, own_proxy: LiveProxy
) -> None:
    stand_in, proxy = clean.stand_in, own_proxy
    proxy.flip("inventory", mode="canary", percent=100, reason="e2e: full canary")
    stand_in.control(status=503, delay=0.3)
    with ThreadPoolExecutor(max_workers=12) as pool:  # 12 concurrent: all reach the service before it opens
        answers = list(pool.map(lambda n: get(proxy, **{"X-Customer-Id": f"c{n}"}), range(12)))
    assert all(a.status_code == 200 and served_by(a) == "monolith" for a in answers)  # reads fell back
    assert len(stand_in.seen()) == 12

    wait_for_automatic_rollback(proxy, deadline_s=5)
    shared = clean.proxy  # every instance follows the store
    wait_for("the other instance to follow", lambda: shared.group("inventory")["mode"] == "monolith", 2, 0.05)
    assert served_by(get(proxy, **{"X-Customer-Id": "c1"})) == "monolith"


def test_a_service_that_stays_down_under_steady_traffic_is_rolled_back(clean: Stack, own_proxy: LiveProxy) -> None:
    """One request at a time, as light traffic arrives: the breaker opens after 3 failures; the service is still
    down, writes are refused with 503, and the group should go back to the monolith within a few seconds."""
    stand_in, proxy = clean.stand_in, own_proxy
    proxy.flip("inventory", mode="canary", percent=100, reason="e2e: full canary")
    stand_in.control(status=503)
    deadline = time.monotonic() + 6  # rollback window is 10 s, min_requests 10, error_rate 0.5
    refused_writes = 0
    while time.monotonic() < deadline and proxy.group("inventory")["mode"] != "monolith":
        assert get(proxy, **{"X-Customer-Id": "c1"}).status_code == 200
        write = httpx.post(proxy.base_url + ADJUSTMENTS, json={}, headers={"X-Customer-Id": "c1"}, timeout=TIMEOUT)
        refused_writes += write.status_code == 503
        time.sleep(0.05)  # steady light traffic, not a tight loop
    window = proxy.group("inventory")["window"]
    assert proxy.group("inventory")["mode"] == "monolith", (
        f"still in canary after 6 s of a dead service: {refused_writes} writes refused with 503, "
        f"the rollback window counted only {window['service_requests']} service requests ({window})"
    )
    wait_for_automatic_rollback(proxy, deadline_s=1)


# --- 7. HTTP hygiene ----------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413_before_reaching_anyone(clean: Stack) -> None:
    proxy, stand_in = clean.proxy, clean.stand_in
    proxy.flip("inventory", mode="service", reason="e2e: 413")
    too_big = b"x" * (MAX_BODY_BYTES + 1)
    for path in (ADJUSTMENTS, "/api/orders/"):  # a service route and a monolith one
        declared = httpx.post(proxy.base_url + path, content=too_big, timeout=TIMEOUT)
        assert_json_error(declared, 413, "request_too_large")
        chunked = httpx.post(proxy.base_url + path, content=iter([too_big[:2048], too_big[2048:]]), timeout=TIMEOUT)
        assert_json_error(chunked, 413, "request_too_large")
    assert stand_in.seen() == []
    fits = httpx.post(proxy.base_url + ADJUSTMENTS, content=b"x" * MAX_BODY_BYTES, timeout=TIMEOUT)
    assert fits.status_code == 200 and served_by(fits) == "inventory"


def test_an_unreachable_or_slow_service_gets_502_or_504_json_for_a_write(clean: Stack, own_proxy: LiveProxy) -> None:
    stand_in, proxy = clean.stand_in, own_proxy
    proxy.flip("ghost", mode="service", reason="e2e: nobody listens there")
    unreachable = httpx.post(proxy.base_url + "/api/ghost/x/", json={"a": 1}, timeout=TIMEOUT)
    error = assert_json_error(unreachable, 502, "upstream_unreachable")
    assert "127.0.0.1" not in error["message"]  # no internals
    read = get(proxy, "/api/ghost/x/")  # a read falls back: the monolith has no such page
    assert served_by(read) == "monolith" and read.status_code == 404

    proxy.flip("inventory", mode="service", reason="e2e: slow service")
    stand_in.control(delay=2.0)  # over the service's 1 s read timeout
    started = time.monotonic()
    slow = httpx.post(proxy.base_url + ADJUSTMENTS, json={"a": 1}, timeout=TIMEOUT)
    assert_json_error(slow, 504, "upstream_timeout")
    assert time.monotonic() - started < 1.9
    assert [r["method"] for r in stand_in.seen()] == ["POST"]  # sent once, never retried


def test_hop_by_hop_headers_stop_at_the_proxy_and_forwarding_headers_are_added(clean: Stack) -> None:
    proxy, stand_in = clean.proxy, clean.stand_in
    proxy.flip("inventory", mode="service", reason="e2e: headers")
    response = get(proxy, **{
        "Connection": "keep-alive, X-Private", "X-Private": "for the proxy only", "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic cHJveHk6cHJveHk=", "X-Forwarded-For": "203.0.113.9",
        "X-Request-ID": "e2e-request-42", "X-Kept": "end to end", "X-Strangler-Shadow": "1",
    })  # fmt: skip
    assert response.status_code == 200 and served_by(response) == "inventory"
    assert response.headers["x-request-id"] == "e2e-request-42"
    (seen,) = stand_in.seen()
    names = {name for name, _ in seen["headers"]}
    assert not names & {"x-private", "keep-alive", "proxy-authorization", "x-strangler-shadow"}, seen["headers"]
    assert header(seen, "connection") in ([], ["keep-alive"])  # the client's own Connection never travels
    assert header(seen, "x-kept") == ["end to end"]
    assert header(seen, "x-request-id") == ["e2e-request-42"]

    generated = get(proxy)  # no X-Request-ID: the proxy makes one and both sides see the same
    assert header(stand_in.seen()[1], "x-request-id") == [generated.headers["x-request-id"]]
    # This hop (the test client, on 127.0.0.1) is appended to the chain the client sent.
    assert header(seen, "x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]


def test_an_odd_host_header_or_target_cannot_steer_the_proxy_to_another_upstream(clean: Stack) -> None:
    proxy, stand_in = clean.proxy, clean.stand_in
    stand_in_host = stand_in.base_url.removeprefix("http://")
    monolith_body = clean.monolith_stock()
    # Monolith mode, but naming the stand-in as Host: the monolith answers and the stand-in never hears of it.
    for host in (stand_in_host, "evil.example", "localhost:1"):
        response = get(proxy, Host=host)
        assert response.status_code == 200 and served_by(response) == "monolith", host
        assert response.json() == monolith_body
    # An absolute-form target naming the stand-in's /_seen is not a way in either.
    with socket.create_connection(("127.0.0.1", int(proxy.base_url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(f"GET {stand_in.base_url}/_seen HTTP/1.1\r\nHost: {stand_in_host}\r\n"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"x-strangler-upstream: inventory" not in head.lower() and b'"requests"' not in body, raw[:300]
    assert b"x-strangler-upstream: monolith" in head.lower() or head.startswith(b"HTTP/1.1 400"), raw[:300]
    assert stand_in.seen() == []

    proxy.flip("inventory", mode="service", reason="e2e: host")
    response = get(proxy, Host="evil.example")
    assert served_by(response) == "inventory"
    (seen,) = stand_in.seen()
    assert header(seen, "host") == [stand_in_host] and header(seen, "x-forwarded-host") == ["evil.example"]


# --- 8. several instances -----------------------------------------------------------------------------------------


def test_two_instances_on_one_state_store_agree_within_a_second_of_a_flip(clean: Stack, own_proxy: LiveProxy) -> None:
    first, second = clean.proxy, own_proxy
    assert served_by(get(first)) == served_by(get(second)) == "monolith"

    for via, mode, upstream in ((first, "service", "inventory"), (second, "monolith", "monolith")):
        flipped_at = time.monotonic()
        via.flip("inventory", mode=mode, reason=f"e2e: flip to {mode} through {via.name}")

        def agree(upstream: str = upstream) -> bool:
            return served_by(get(first)) == served_by(get(second)) == upstream

        wait_for(f"both instances to serve from {upstream}", agree, 3, 0.02)
        took = time.monotonic() - flipped_at
        assert took < 1.0, f"instances disagreed for {took:.2f} s after a flip through {via.name}"


# --- 9. cut-over: the write barrier across two instances ----------------------------------------------------------


def test_a_cut_over_holds_writes_on_every_instance_until_the_service_has_caught_up(clean: Stack) -> None:
    """Two proxy instances on one state file; stand-ins play the monolith's fence and the service's replication
    status. A write sent to the other instance during the barrier waits, then reaches the service."""
    service = clean.stand_in
    workdir = clean.workdir / "cutover"
    workdir.mkdir(exist_ok=True)
    internal_token = secrets.token_urlsafe(16)
    with ExitStack() as cleanup:
        monolith = start_stand_in(workdir)  # plays the monolith: only its fence and unfence are asked
        cleanup.callback(monolith.stop)
        config = write_cutover_config(
            workdir / "proxy.yaml", monolith_url=monolith.base_url, service_url=service.base_url,
            state_path=workdir / "state.sqlite3", tokens={"ops": clean.ops_token},
        )  # fmt: skip
        instances = []
        for name in ("cutover-a", "cutover-b"):
            instance = start_proxy(name, config, workdir, admin_token=clean.env_token,
                                   extra_env={"STRANGLER_INTERNAL_TOKEN": internal_token})  # fmt: skip
            cleanup.callback(instance.stop)
            instances.append(instance)
        first, second = instances
        monolith.control(position=5)
        service.control(applied=3)

        def replication_polls() -> int:
            return sum(r["path"] == "/internal/replication" for r in service.seen())

        with ThreadPoolExecutor(max_workers=2) as pool:
            change = {"mode": "service", "reason": "e2e: inventory cut over"}
            flip = pool.submit(first.admin, "PATCH", "/routes/inventory", json=change)
            wait_for("the other instance to see the hold", lambda: second.group("inventory")["held"], 3, 0.02)
            write = pool.submit(httpx.post, second.base_url + ADJUSTMENTS, json={"sku": "MUG-LOGO"}, timeout=TIMEOUT)
            polls = replication_polls()
            wait_for("the barrier to keep polling", lambda: replication_polls() >= polls + 5, 5, 0.02)
            assert not write.done() and not flip.done(), "the service is 2 events behind: writes must wait"
            service.control(applied=5)
            flipped, written = flip.result(timeout=10), write.result(timeout=10)

        assert flipped.status_code == 200, flipped.text
        cutover = flipped.json()["cutover"]
        assert cutover["position"] == 5 and cutover["pause_ms"] > 0
        assert f"writes held {cutover['pause_ms']} ms, position 5" in first.audit("inventory")[0]["reason"]
        assert written.status_code == 200 and served_by(written) == "inventory", written.text
        (fence,) = [r for r in monolith.seen() if r["path"].startswith("/internal/")]
        assert (fence["method"], fence["path"]) == ("POST", "/internal/ownership/inventory/fence")
        assert header(fence, "authorization") == [f"Bearer {internal_token}"]
        assert not any(r["path"] == ADJUSTMENTS for r in monolith.seen())  # the held write never reached it
        wait_for("both instances in service mode", lambda: second.group("inventory")["mode"] == "service", 2, 0.05)
        assert not second.group("inventory")["held"]
