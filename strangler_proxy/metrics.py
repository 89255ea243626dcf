"""Prometheus metrics of the proxy (served by the admin API at ``/metrics``).

Under ``--workers N`` each worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's
multiprocess mode) and ``exposition()`` merges them: counters and histograms add up, and each gauge says how
(``multiprocess_mode``: queue lengths add up, a breaker or a hold counts when any worker has it).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

# Latency buckets in seconds, fine at the low end where a proxy's own overhead lives.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "strangler_proxy_requests", "Requests answered, by group, serving upstream and status class",
    ["group", "upstream", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "strangler_proxy_upstream_seconds", "Time to the upstream's response headers", ["group", "upstream"],
    buckets=_BUCKETS,
)  # fmt: skip
FALLBACKS = Counter("strangler_proxy_fallbacks", "Safe requests re-served by the monolith", ["group", "reason"])
SHADOW = Counter(
    "strangler_proxy_shadow", "Shadow copies by outcome (match, mismatch, skipped, error, dropped, timeout)",
    ["group", "outcome"],
)  # fmt: skip
SHADOW_QUEUE = Gauge("strangler_proxy_shadow_queue", "Shadow copies waiting", ["group"], multiprocess_mode="livesum")
BREAKER = Gauge("strangler_proxy_breaker_open", "1 while the upstream's circuit breaker is open or half-open",
                ["upstream"], multiprocess_mode="livemax")  # fmt: skip
ROLLBACKS = Counter("strangler_proxy_rollbacks", "Automatic rollbacks to the monolith", ["group"])
HELD = Gauge("strangler_proxy_group_held", "1 while the group's unsafe requests are held (a cut-over)", ["group"],
             multiprocess_mode="livemax")  # fmt: skip
HELD_REQUESTS = Counter(
    "strangler_proxy_held_requests", "Unsafe requests parked by a hold, by outcome (released, timed_out, gone)",
    ["group", "outcome"],
)  # fmt: skip
HOLD_SECONDS = Histogram(
    "strangler_proxy_hold_seconds", "How long each hold lasted, as this instance saw it", ["group"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)  # fmt: skip
CUTOVERS = Counter("strangler_proxy_cutovers", "Cut-overs run by this instance, by outcome (done, aborted)",
                   ["group", "outcome"])  # fmt: skip
CUTOVER_PAUSE = Gauge(
    "strangler_proxy_cutover_pause_seconds", "Writes held by the group's last completed cut-over (hold set to cleared)",
    ["group"], multiprocess_mode="mostrecent",
)  # fmt: skip
MODE = Gauge("strangler_proxy_group_percent", "Share of buckets (or 100 for service mode) the service serves",
             ["group", "mode"], multiprocess_mode="mostrecent")  # fmt: skip


# The request path's metrics, through cached children: prometheus_client's labels() takes a lock and builds a
# key on every call.
_REQUEST_CHILDREN: dict[tuple[str, str, str], Any] = {}
_LATENCY_CHILDREN: dict[tuple[str, str], Any] = {}


def count_request(group: str, upstream: str, status: str) -> None:
    key = (group, upstream, status)
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = _REQUEST_CHILDREN[key] = REQUESTS.labels(group, upstream, status)
    child.inc()


def observe_latency(group: str, upstream: str, seconds: float) -> None:
    key = (group, upstream)
    child = _LATENCY_CHILDREN.get(key)
    if child is None:
        child = _LATENCY_CHILDREN[key] = LATENCY.labels(group, upstream)
    child.observe(seconds)


MISDIRECTED = Counter(
    "strangler_proxy_misdirected_writes",
    "Writes the monolith refused with 421 (its capability moved meanwhile) and the proxy re-sent to the service",
    ["group"],
)


def exposition() -> bytes:
    """The Prometheus text: this process's metrics, or every worker's merged under ``--workers N``."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
