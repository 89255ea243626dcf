"""The public proxy: an ASGI app that sends each request to the monolith or to a group's service.

For each request: match a route (unmatched → monolith); read the group's live mode; pick a side (canary: the
sticky bucket of the business key); forward with hop-by-hop headers removed and ``X-Forwarded-*`` set; stream
the answer back. Safe methods the service fails (unreachable, timeout, 5xx, breaker open) are served by the
monolith instead; unsafe ones are never re-sent. In shadow mode the monolith answers and a copy goes to the
service afterwards (``strangler_proxy.shadow``). Service outcomes and shadow comparisons feed a sliding window
per group; crossing a threshold rolls the group back to the monolith, audited. While a cut-over holds a group
(``strangler_proxy.hold``), its unsafe requests wait for the new state; a ``writes: at-cutover`` group's unsafe
requests stay on the monolith until mode ``service``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from strangler_proxy import metrics
from strangler_proxy.body import Receive, RequestBody, TooLarge
from strangler_proxy.breaker import CircuitBreaker
from strangler_proxy.clients import auto
from strangler_proxy.diff import Comparison, Exchange
from strangler_proxy.hold import Hold, Parked
from strangler_proxy.hygiene import (
    SAFE_METHODS,
    Headers,
    error_body,
    forwarded,
    header_value,
    request_id,
    strip_hop_by_hop,
)
from strangler_proxy.model import Group, Mode, ProxyConfig, Side, WritePolicy, Writes
from strangler_proxy.ownership import side_for_bucket, side_for_cutover_writes
from strangler_proxy.routing import RouteMatch, RouteTable
from strangler_proxy.shadow import ShadowJob, ShadowLane
from strangler_proxy.state import GroupState, StateStore
from strangler_proxy.sticky import request_bucket
from strangler_proxy.upstream import UpstreamClient, UpstreamError, UpstreamTimeout
from strangler_proxy.window import Window, evaluate

logger = logging.getLogger("strangler_proxy")

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]

POLL_SECONDS = 0.25  # how often the live state is read: a change reaches every instance within a second
ROLLBACK_CHECK_SECONDS = 0.5


class ProxyApp:
    def __init__(
        self,
        config: ProxyConfig,
        store: StateStore,
        *,
        client_factory: Callable[[Any], UpstreamClient] | None = None,
    ) -> None:
        self.config, self.store = config, store
        self.table = RouteTable(config.groups)
        factory = client_factory or auto
        self.clients = {name: factory(upstream) for name, upstream in config.upstreams.items()}
        self.breakers = {
            name: CircuitBreaker(upstream.breaker, trial_timeout=upstream.connect_timeout + upstream.read_timeout)
            for name, upstream in config.upstreams.items()
        }
        for name, breaker in self.breakers.items():
            breaker.on_change = self._breaker_changed(name)
        self.windows = {name: Window(group.rollback.window_seconds) for name, group in config.groups.items()}
        self.live: dict[str, GroupState] = {}
        self.holds = {name: Hold(name) for name in config.groups}
        self._lanes: dict[str, ShadowLane] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def startup(self) -> None:
        await asyncio.to_thread(self.store.seed, self.config.groups.values())
        self._apply(await asyncio.to_thread(self.store.groups))
        for name, group in self.config.groups.items():
            lane = ShadowLane(group, self.clients[group.service], self._on_compared, self._store_mismatch)
            lane.start()
            self._lanes[name] = lane
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._watch())]

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(lane.stop() for lane in self._lanes.values()))
        await asyncio.gather(*(client.close() for client in self.clients.values()))

    def _apply(self, states: dict[str, GroupState]) -> None:
        for name, state in states.items():
            previous = self.live.get(name)
            if previous is not None and (previous.mode, previous.percent) != (state.mode, state.percent):
                logger.info("group %s: %s %g%% -> %s %g%%", name, previous.mode, previous.percent, state.mode,
                            state.percent)  # fmt: skip
            if name in self.config.groups:
                metrics.MODE.labels(name, str(state.mode)).set(
                    100.0 if state.mode == Mode.SERVICE else state.percent if state.mode == Mode.CANARY else 0.0
                )
        self.live = {name: states[name] for name in self.config.groups if name in states}
        for name, hold in self.holds.items():  # after self.live: a released request routes by the new state
            hold.update(name in self.live and self.live[name].held)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self._apply(await asyncio.to_thread(self.store.groups))
            except Exception as exc:  # the store is down: keep serving with the last known state
                logger.warning("state store unavailable, keeping the last known modes: %s", exc)

    def _breaker_changed(self, upstream: str) -> Callable[[str, str], None]:
        def changed(old: str, new: str) -> None:
            metrics.BREAKER.labels(upstream).set(0 if new == "closed" else 1)
            logger.warning("circuit breaker of %s: %s -> %s", upstream, old, new)

        return changed

    # --- ASGI -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    raise
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        rid = request_id(headers)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        method = scope["method"]
        if not raw_path.startswith(b"/"):  # absolute-form or "*": nothing may steer the proxy elsewhere
            await _error(send, 400, "bad_request_target", "The request target must be a path.", rid)
            return
        length = header_value(headers, "content-length")
        if length is not None and (not length.isdigit() or int(length) > self.config.max_body_bytes):
            status, code = (413, "request_too_large") if length.isdigit() else (400, "bad_content_length")
            await _error(send, status, code, "The request body is too large." if status == 413 else
                         "Content-Length is not a number.", rid)  # fmt: skip
            return
        query = scope.get("query_string", b"")
        target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        chunked = header_value(headers, "transfer-encoding") is not None
        body = RequestBody(receive, self.config.max_body_bytes, streamable=length is not None,
                           empty=length is None and not chunked)  # fmt: skip
        try:
            await self._route(scope, method, target, headers, body, rid, send)
        except TooLarge:
            await _error(send, 413, "request_too_large", "The request body is too large.", rid)
        except ConnectionResetError:
            return

    async def _route(
        self, scope: Scope, method: str, target: str, headers: Headers, body: RequestBody, rid: str, send: Send
    ) -> None:
        # Routes match the path as sent (percent-encoded), never the decoded one: "/a%2Fb" is not "/a/b".
        match = self.table.match(method, target.partition("?")[0], dict(headers))
        group = match.group if match else None
        outgoing = self._outgoing(scope, headers, rid)
        if group is not None and method not in SAFE_METHODS and self.holds[group.name].held:
            await body.buffer()  # within the limit, before parking: a released request is sent at once
            if not await self._wait_out_hold(group, body, rid, send):
                return
        if group is not None and group.cutover is not None and method not in SAFE_METHODS:
            await body.buffer()  # kept: a 421 from the monolith (moved meanwhile) is re-sent to the service
        state = self.live.get(group.name) if group else None
        mode = state.mode if state else Mode.MONOLITH
        if group is None or match is None or state is None or mode == Mode.MONOLITH:
            await self._serve(None, self.config.monolith, method, target, outgoing, body, rid, send)
            return
        if mode == Mode.SHADOW:
            await self._serve_shadowed(group, method, target, outgoing, body, rid, send)
            return
        side = Side.SERVICE
        if mode == Mode.CANARY:
            side = await self._canary_side(group, state, method, scope, headers, match, body)
        if side == Side.MONOLITH:
            await self._serve(group, self.config.monolith, method, target, outgoing, body, rid, send)
        else:
            await self._serve_service(group, method, target, outgoing, body, rid, send)

    async def _canary_side(
        self, group: Group, state: GroupState, method: str, scope: Scope, headers: Headers, match: RouteMatch,
        body: RequestBody,
    ) -> Side:  # fmt: skip
        if group.writes is Writes.AT_CUTOVER and method not in SAFE_METHODS:
            return side_for_cutover_writes(state)
        sticky = group.sticky
        if sticky is None:
            return side_for_bucket(state, None)
        if sticky.reads_json:
            await body.buffer()
        bucket = request_bucket(
            sticky, headers=dict(headers), cookies=header_value(headers, "cookie"),
            query=scope.get("query_string", b"").decode("latin-1"), params=match.params,
            json_body=lambda: _json_or_none(body.buffered),
        )  # fmt: skip
        return side_for_bucket(state, bucket, default=sticky.default)

    def _outgoing(self, scope: Scope, headers: Headers, rid: str) -> Headers:
        client = scope.get("client")
        host = header_value(headers, "host")
        kept = [(k, v) for k, v in strip_hop_by_hop(headers) if k not in ("host", "x-request-id", "x-strangler-shadow")]
        out = forwarded(kept, client=client[0] if client else None, scheme=scope.get("scheme", "http"), host=host)
        out.append(("x-request-id", rid))
        return out

    # --- serving --------------------------------------------------------------------------------------------

    async def _serve(
        self, group: Group | None, upstream: str, method: str, target: str, headers: Headers, body: RequestBody,
        rid: str, send: Send, *, tee: int = 0,
    ) -> Exchange | None:  # fmt: skip
        """Forward to ``upstream`` and stream the answer; with ``tee``, also return it (body bounded by tee)."""
        label = group.name if group else "-"
        started = time.perf_counter()
        try:
            response = await self.clients[upstream].send(method, target, headers, await body.for_upstream())
        except UpstreamError as exc:
            metrics.count_request(label, upstream, "error")
            await _upstream_error(send, exc, upstream, rid)
            return None
        metrics.observe_latency(label, upstream, time.perf_counter() - started)
        metrics.count_request(label, upstream, f"{response.status // 100}xx")
        if response.status == 421 and self._misdirected_write(group, upstream, method, body, tee):
            assert group is not None
            await response.release()
            metrics.MISDIRECTED.labels(group.name).inc()
            await self._resend_moved(group, method, target, headers, body, rid, send)
            return None
        return await self._relay(response, upstream, method, rid, send, tee=tee)

    async def _resend_moved(
        self, group: Group, method: str, target: str, headers: Headers, body: RequestBody, rid: str, send: Send
    ) -> None:
        """The monolith refused a write of a capability fenced since this request was routed: 421 means nothing
        was done. Wait, parked, for the cut-over to end; then the service gets it (the owner now), or, if the
        cut-over was aborted, the monolith again (unfenced)."""
        if self.holds[group.name].held and not await self._wait_out_hold(group, body, rid, send):
            return
        state = self.live.get(group.name)
        if state is not None and state.mode is Mode.SERVICE:
            await self._serve_service(group, method, target, headers, body, rid, send)
            return
        try:
            response = await self.clients[self.config.monolith].send(method, target, headers, await body.for_upstream())
        except UpstreamError as exc:
            await _upstream_error(send, exc, self.config.monolith, rid)
            return
        await self._relay(response, self.config.monolith, method, rid, send)

    async def _wait_out_hold(self, group: Group, body: RequestBody, rid: str, send: Send) -> bool:
        """Park an unsafe request while the group's writes are held; False when it was answered (503, the hold
        outlasted ``hold_timeout``) or the client went away, True when it may go on by the new state."""
        parked = await self.holds[group.name].park(group.hold_timeout, body.disconnected())
        if parked is Parked.TIMED_OUT:
            message = f"Writes to {group.name} are held for a cut-over; try again shortly."
            await _error(send, 503, "writes_held", message, rid)
        return parked is Parked.RELEASED

    def _misdirected_write(self, group: Group | None, upstream: str, method: str, body: RequestBody, tee: int) -> bool:
        return (
            group is not None and group.cutover is not None and upstream == self.config.monolith and not tee
            and method not in SAFE_METHODS and body.buffered is not None
        )  # fmt: skip

    async def _relay(self, response: Any, upstream: str, method: str, rid: str, send: Send, *, tee: int = 0
                     ) -> Exchange | None:  # fmt: skip
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in strip_hop_by_hop(response.headers)
               if k != "x-request-id"]  # fmt: skip
        out.append((b"x-request-id", rid.encode()))
        if self.config.upstream_header:
            out.append((b"x-strangler-upstream", upstream.encode()))
        kept: list[bytes] = []
        size, truncated = 0, False
        chunks = response.chunks
        try:
            await send({"type": "http.response.start", "status": response.status, "headers": out})
            whole = response.whole
            if whole is not None:  # all here already: one write (the usual small answer)
                await send({"type": "http.response.body", "body": b"" if method == "HEAD" else whole})
                if not tee:
                    return None
                fits = len(whole) <= tee  # as below: a body past the bound is not kept, only marked truncated
                return Exchange(response.status, tuple(response.headers), whole if fits else b"", not fits)
            # With a Content-Length the last chunk is known when it arrives and carries more_body=False: one
            # write fewer per response, and no chunk is held back (streams and long polls flow as they come).
            length = header_value(response.headers, "content-length")
            remaining = int(length) if length is not None and length.isdigit() and method != "HEAD" else -1
            finished = False
            async for chunk in chunks:
                if tee:
                    if size + len(chunk) <= tee:
                        kept.append(chunk)
                        size += len(chunk)
                    else:
                        truncated = True
                if method == "HEAD":
                    continue
                if remaining >= 0:
                    remaining -= len(chunk)
                    finished = remaining <= 0
                await send({"type": "http.response.body", "body": chunk, "more_body": not finished})
            if not finished:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except UpstreamError as exc:  # the headers are out: all that is left is to cut the response short
            logger.warning("%s broke off its response to %s: %s", upstream, rid, exc)
            return None
        finally:
            await response.release()
        return Exchange(response.status, tuple(response.headers), b"".join(kept), truncated) if tee else None

    async def _serve_shadowed(
        self, group: Group, method: str, target: str, headers: Headers, body: RequestBody, rid: str, send: Send
    ) -> None:
        policy = group.shadow
        eligible = (method in SAFE_METHODS or policy.writes == WritePolicy.DRY_RUN) and (
            policy.sample_rate >= 1.0 or random.random() < policy.sample_rate
        )
        if not eligible:
            await self._serve(group, self.config.monolith, method, target, headers, body, rid, send)
            return
        request_body = await body.buffer()
        monolith = await self._serve(group, self.config.monolith, method, target, headers, body, rid, send,
                                     tee=policy.max_body_bytes)  # fmt: skip
        if monolith is not None:
            self._lanes[group.name].offer(ShadowJob(method, target, headers, request_body, monolith, rid))

    async def _serve_service(
        self, group: Group, method: str, target: str, headers: Headers, body: RequestBody, rid: str, send: Send
    ) -> None:
        safe = method in SAFE_METHODS
        breaker = self.breakers[group.service]
        if not breaker.allow():
            # A refusal while open counts as a service error: the failures that opened the breaker would
            # otherwise be all the window ever sees, and a dead service would never be rolled back. (Refusals
            # while half-open only wait for the trial's verdict.)
            if breaker.state == "open":
                self.windows[group.name].record_service(False, 0.0)
            if safe:
                metrics.FALLBACKS.labels(group.name, "breaker_open").inc()
                await self._serve(group, self.config.monolith, method, target, headers, body, rid, send)
            else:
                await _error(
                    send,
                    503,
                    "service_unavailable",
                    f"The {group.name} service is unavailable; the request was not sent.",
                    rid,
                )
            return  # fmt: skip
        if safe:
            await body.buffer()  # kept, so the monolith can be asked instead
        started = time.perf_counter()
        try:
            response = await self.clients[group.service].send(method, target, headers, await body.for_upstream())
        except UpstreamError as exc:
            breaker.record_failure()
            self._record_service(group, ok=False, started=started)
            metrics.count_request(group.name, group.service, "error")
            if safe:
                metrics.FALLBACKS.labels(group.name, "timeout" if isinstance(exc, UpstreamTimeout) else
                                         "unreachable").inc()  # fmt: skip
                await self._serve(group, self.config.monolith, method, target, headers, body, rid, send)
            else:
                await _upstream_error(send, exc, group.service, rid)
            return
        failed = response.status >= 500
        (breaker.record_failure if failed else breaker.record_success)()
        self._record_service(group, ok=not failed, started=started)
        metrics.observe_latency(group.name, group.service, time.perf_counter() - started)
        metrics.count_request(group.name, group.service, f"{response.status // 100}xx")
        if failed and safe:
            await response.release()
            metrics.FALLBACKS.labels(group.name, f"status_{response.status}").inc()
            await self._serve(group, self.config.monolith, method, target, headers, body, rid, send)
            return
        await self._relay(response, group.service, method, rid, send)

    # --- automatic rollback ---------------------------------------------------------------------------------

    def _record_service(self, group: Group, *, ok: bool, started: float) -> None:
        self.windows[group.name].record_service(ok, (time.perf_counter() - started) * 1000)

    def _on_compared(self, group: Group, comparison: Comparison) -> None:
        if not comparison.skipped:
            self.windows[group.name].record_shadow(comparison.matched)

    async def _watch(self) -> None:
        """Twice a second, roll back every group whose window crossed one of its thresholds."""
        while True:
            await asyncio.sleep(ROLLBACK_CHECK_SECONDS)
            for name, group in self.config.groups.items():
                state = self.live.get(name)
                if state is None or state.mode == Mode.MONOLITH or state.held:  # a held group: the barrier decides
                    continue
                reason = evaluate(self.windows[name].snapshot(), group.rollback)
                if reason is not None:
                    await self._roll_back(group, reason)

    async def _roll_back(self, group: Group, reason: str) -> None:
        try:
            entry = await asyncio.to_thread(
                self.store.change, group.name, mode=Mode.MONOLITH, percent=0.0, reason=reason, who="automatic",
                automatic=True,
            )  # fmt: skip
            metrics.ROLLBACKS.labels(group.name).inc()
            logger.error("group %s rolled back to the monolith (%s -> monolith): %s", group.name, entry.old_mode,
                         reason)  # fmt: skip
            self.windows[group.name].clear()
            self._apply(await asyncio.to_thread(self.store.groups))
        except Exception:
            logger.exception("rolling %s back failed; will retry", group.name)

    async def _store_mismatch(self, group: Group, record: dict[str, Any]) -> None:
        await asyncio.to_thread(self.store.add_mismatch, group.name, record, keep=self.config.mismatch_retention)


def _json_or_none(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


async def _error(send: Send, status: int, code: str, message: str, rid: str) -> None:
    body = error_body(code, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-request-id", rid.encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _upstream_error(send: Send, exc: UpstreamError, upstream: str, rid: str) -> None:
    if isinstance(exc, UpstreamTimeout):
        await _error(send, 504, "upstream_timeout", f"The {upstream} upstream did not answer in time.", rid)
    else:
        await _error(send, 502, "upstream_unreachable", f"The {upstream} upstream could not be reached.", rid)
