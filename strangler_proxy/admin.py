"""The admin API (port 8081): read and flip groups, read the audit log and stored mismatches, metrics.

Every request but ``GET /healthz`` needs ``Authorization: Bearer <token>``; tokens are named in the config (or
``STRANGLER_ADMIN_TOKEN``, named ``env``) and compared in constant time. The token's name is the "who" of the
audit log. Errors use the project's JSON error shape.

::

    GET   /routes                      groups: live mode and percent, routes, sticky key, breaker, window stats
    PATCH /routes/{group}              {"mode": "canary", "percent": 10, "reason": "ramp to 10%"}
                                       {"mode": "service", ...} on a group with a cutover section: the write
                                       barrier (strangler_proxy.cutover), answered with {"cutover": {pause_ms, ...}}
                                       {"held": false, "reason": ...}: clear a hold an interrupted cut-over left
    GET   /audit?group=&limit=
    GET   /mismatches?group=&limit=    newest first, summaries
    GET   /mismatches/{id}             both responses, the request, the diff
    GET   /metrics                     Prometheus text format
    GET   /healthz                     200 while the state store answers
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import os
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST

from strangler_proxy import metrics
from strangler_proxy.app import ProxyApp, Scope, Send
from strangler_proxy.body import Receive
from strangler_proxy.cutover import CutoverBarrier, CutoverError
from strangler_proxy.hygiene import error_body
from strangler_proxy.model import AdminToken, Group, Mode
from strangler_proxy.state import UnknownGroup

MAX_BODY = 16_384
MAX_LIMIT = 500


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class AdminApp:
    def __init__(
        self,
        proxy: ProxyApp,
        tokens: tuple[AdminToken, ...],
        *,
        insecure: bool = False,
        cutover: CutoverBarrier | None = None,
    ) -> None:
        if not tokens and not insecure:
            raise ValueError("the admin API needs a token: admin.tokens in the config or STRANGLER_ADMIN_TOKEN")
        self.proxy = proxy
        # The internal token is read when a cut-over starts, so that it can be provided without a restart.
        self.cutover = cutover or CutoverBarrier(proxy, env=os.environ)
        self._tokens = [(t.name, t.token.encode()) for t in tokens]
        self._insecure = insecure and not tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the proxy app owns startup and shutdown
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        try:
            status, body, content_type = await self._handle(scope, receive)
        except AdminError as exc:
            status, body, content_type = exc.status, error_body(exc.code, exc.message, exc.details), "application/json"
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    def _who(self, scope: Scope) -> str:
        if self._insecure:
            return "insecure-dev"
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() != b"bearer" or not presented:
            raise AdminError(401, "not_authenticated", "Send Authorization: Bearer <admin token>.")
        found = None
        for name, token in self._tokens:  # every token is compared, in constant time, whatever matches
            if hmac.compare_digest(presented, token):
                found = name
        if found is None:
            raise AdminError(401, "authentication_failed", "The admin token is not valid.")
        return found

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes, str]:
        method, path = scope["method"], scope["path"].rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        if path == "/healthz" and method == "GET":
            await asyncio.to_thread(self.proxy.store.groups)
            return 200, b'{"status":"ok"}', "application/json"
        who = self._who(scope)
        store = self.proxy.store
        if path == "/metrics" and method == "GET":
            return 200, metrics.exposition(), CONTENT_TYPE_LATEST
        if path == "/routes":
            _allow(method, "GET")
            return _json(200, {"groups": [self._group(name) for name in self.proxy.config.groups]})
        if path.startswith("/routes/"):
            name = path.removeprefix("/routes/")
            _allow(method, "GET", "PATCH")
            if name not in self.proxy.config.groups:
                raise AdminError(404, "unknown_group", f"No group named {name!r}.")
            if method == "GET":
                return _json(200, self._group(name))
            return await self._patch(self.proxy.config.groups[name], _parse_change(await _read_json(receive)), who)
        if path == "/audit":
            _allow(method, "GET")
            group = _group_filter(query, self.proxy)
            entries = await asyncio.to_thread(store.audit, group=group, limit=_limit(query, 100))
            return _json(200, {"entries": [e.to_json() for e in entries]})
        if path == "/mismatches":
            _allow(method, "GET")
            group = _group_filter(query, self.proxy)
            found = await asyncio.to_thread(store.mismatches, group=group, limit=_limit(query, 50))
            return _json(200, {"mismatches": [_summary(m) for m in found]})
        if path.startswith("/mismatches/"):
            _allow(method, "GET")
            raw_id = path.removeprefix("/mismatches/")
            if not raw_id.isdigit() or len(raw_id) > 18:
                raise AdminError(404, "not_found", f"No mismatch {raw_id!r}.")
            record = await asyncio.to_thread(store.mismatch, int(raw_id))
            if record is None:
                raise AdminError(404, "not_found", f"No mismatch {raw_id}.")
            return _json(200, record)
        raise AdminError(404, "not_found", f"No admin endpoint {path}.")

    async def _patch(self, group: Group, change: dict[str, Any], who: str) -> tuple[int, bytes, str]:
        store, name = self.proxy.store, group.name
        current = (await asyncio.to_thread(store.groups)).get(name)
        if current is None:
            raise AdminError(404, "unknown_group", f"No group named {name!r}.")
        if self.cutover.running(name):
            raise AdminError(409, "cutover_in_progress", f"A cut-over of {name} is running; try again when it is done.")
        if current.held and "held" not in change:
            message = (f"{name} is held: a cut-over is running on another instance, or an interrupted one left the "
                       'hold (clear it with {"held": false, "reason": ...}).')  # fmt: skip
            raise AdminError(409, "cutover_in_progress", message)
        if not current.held and "held" in change:
            raise AdminError(409, "not_held", f"{name} is not held; there is nothing to clear.")
        if change["mode"] is Mode.SERVICE and group.cutover is not None and current.mode is not Mode.SERVICE:
            try:
                done = await self.cutover.run(group, percent=change["percent"], reason=change["reason"], who=who)
            except CutoverError as exc:
                raise AdminError(exc.status, exc.code, exc.message, exc.details) from None
            cutover = {"pause_ms": done.pause_ms, "position": done.position, "fence_ms": done.fence_ms,
                       "catch_up_ms": done.catch_up_ms}  # fmt: skip
            return _json(200, {"group": self._group(name), "audit": done.entry.to_json(), "cutover": cutover})
        if "held" in change:
            change["reason"] += " (hold cleared by hand)"
        try:
            entry = await asyncio.to_thread(store.change, name, who=who, automatic=False, **change)
        except UnknownGroup:
            raise AdminError(404, "unknown_group", f"No group named {name!r}.") from None
        self.proxy._apply(await asyncio.to_thread(store.groups))
        return _json(200, {"group": self._group(name), "audit": entry.to_json()})

    def _group(self, name: str) -> dict[str, Any]:
        proxy = self.proxy
        group, state = proxy.config.groups[name], proxy.live.get(name)
        stats = proxy.windows[name].snapshot()
        sticky, cutover = group.sticky, group.cutover
        return {
            "name": name, "service": group.service,
            "mode": str(state.mode) if state else str(group.mode), "percent": state.percent if state else group.percent,
            "held": state.held if state else False,
            "updated_at": state.updated_at if state else None,
            "sticky": {"default": str(sticky.default), "keys": [
                {"from": str(k.source), "name": k.name, "embedded": k.embedded} for k in sticky.keys
            ]} if sticky else None,
            "writes": str(group.writes),
            "cutover": {"capability": cutover.capability, "timeout": cutover.timeout,
                        "hold_timeout": cutover.hold_timeout} if cutover else None,
            "routes": [{"path": r.path, "methods": list(r.methods)} for r in group.routes],
            "breaker": proxy.breakers[group.service].state,
            "window": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(stats).items()},
        }  # fmt: skip


def _json(status: int, value: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(value, separators=(",", ":")).encode(), "application/json"


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise AdminError(405, "method_not_allowed", f"{method} is not allowed here; use {', '.join(allowed)}.")


def _limit(query: dict[str, str], default: int) -> int:
    raw = query.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise AdminError(400, "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _group_filter(query: dict[str, str], proxy: ProxyApp) -> str | None:
    group = query.get("group") or None
    if group is not None and group not in proxy.config.groups:
        raise AdminError(404, "unknown_group", f"No group named {group!r}.")
    return group


async def _read_json(receive: Receive) -> Any:
    parts, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise AdminError(413, "request_too_large", f"The body is larger than {MAX_BODY} bytes.")
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    try:
        return json.loads(b"".join(parts))
    except ValueError:
        raise AdminError(400, "malformed_request", "The body is not valid JSON.") from None


def _parse_change(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_change", "Send a JSON object with mode, percent and reason.")
    unknown = sorted(set(body) - {"mode", "percent", "reason", "held"})
    if unknown:
        raise AdminError(400, "invalid_change", f"Unknown fields: {', '.join(unknown)}.", {"unknown": unknown})
    mode, percent, reason = body.get("mode"), body.get("percent"), body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
        raise AdminError(400, "invalid_change", "reason is required: a non-empty string of at most 1000 characters.")
    if "held" in body:
        if body["held"] is not False or mode is not None or percent is not None:
            message = 'held can only be cleared, alone: {"held": false, "reason": ...} (a cut-over sets it).'
            raise AdminError(400, "invalid_change", message)
        return {"mode": None, "percent": None, "held": False, "reason": reason.strip()}
    if mode is None and percent is None:
        raise AdminError(400, "invalid_change", "Change mode, percent or both.")
    if mode is not None and mode not in {m.value for m in Mode}:
        raise AdminError(400, "invalid_change", f"mode must be one of {', '.join(m.value for m in Mode)}.")
    valid_number = isinstance(percent, int | float) and not isinstance(percent, bool) and math.isfinite(percent)
    if percent is not None and not (valid_number and 0 <= percent <= 100):
        raise AdminError(400, "invalid_change", "percent must be a number from 0 to 100.")
    return {"mode": Mode(mode) if mode else None, "percent": percent, "reason": reason.strip()}


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    request = record.get("request", {})
    return {
        "id": record["id"], "at": record["at"], "group": record["group"], "method": request.get("method"),
        "target": request.get("target"), "summary": record.get("summary"),
        "statuses": [record.get("monolith", {}).get("status"), record.get("service", {}).get("status")],
    }  # fmt: skip
