"""Which upstream client the proxy uses: ``auto`` (the default) takes the lean HTTP/1.1 client for http
upstreams and aiohttp for https; ``aiohttp`` and ``httpx`` force one (the benchmark compares them)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from strangler_proxy.h1client import H1Upstream
from strangler_proxy.model import Upstream
from strangler_proxy.upstream import AiohttpUpstream, HttpxUpstream, UpstreamClient


def auto(upstream: Upstream) -> UpstreamClient:
    if urlsplit(upstream.url).scheme == "http":
        return H1Upstream(upstream)
    return AiohttpUpstream(upstream)


CLIENTS: dict[str, Callable[[Upstream], UpstreamClient]] = {
    "auto": auto, "h1": H1Upstream, "aiohttp": AiohttpUpstream, "httpx": HttpxUpstream,
}  # fmt: skip
