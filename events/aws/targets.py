"""Sending envelopes to SQS queues and EventBridge buses: batched, in order per target, acknowledged or an error.

::

    targets = AwsTargets()                       # region, credentials, endpoint: boto3's usual sources
    targets.send([
        AwsDelivery("sqs", "orders-audit", envelope_json, {"orders-audit": 3}),
        AwsDelivery("eventbridge", "shop", envelope_json, {"reporting": 2, "billing": None}),
    ])                                           # returns once AWS accepted every entry, else TransportError
    targets.close()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from events.aws.codec import put_events_entry, sqs_message
from events.aws.names import is_queue_url, sqs_queue_name
from events.transports import TransportError

__all__ = ["AwsDelivery", "AwsTargets", "client_config"]

MAX_ENTRIES = 10  # SendMessageBatch and PutEvents both take at most 10 entries
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch payload; PutEvents request entries
KINDS = ("sqs", "eventbridge")


@dataclass(frozen=True, slots=True)
class AwsDelivery:
    """One envelope for one AWS target, with the previous sequence the relay computed per consumer."""

    kind: str  # "sqs" | "eventbridge"
    name: str  # queue name or URL / bus name or ARN
    envelope: str  # envelope JSON
    previous: Mapping[str, int | None]


def client_config(*, read_timeout: float = 10.0) -> Config:
    """Short timeouts and the standard retry mode: a stuck call fails fast and the relay retries the batch."""
    return Config(connect_timeout=3, read_timeout=read_timeout, retries={"mode": "standard", "max_attempts": 3})


def _chunks(entries: list[dict[str, Any]], size: Callable[[dict[str, Any]], int]) -> list[list[dict[str, Any]]]:
    """Consecutive runs of at most MAX_ENTRIES entries and MAX_BATCH_BYTES bytes (as ``size`` counts them)."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for entry in entries:
        cost = size(entry)
        if current and (len(current) == MAX_ENTRIES or used + cost > MAX_BATCH_BYTES):
            chunks.append(current)
            current, used = [], 0
        current.append(entry)
        used += cost
    if current:
        chunks.append(current)
    return chunks


def _sqs_size(entry: dict[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    extra = sum(len(k) + len(v["DataType"]) + len(v["StringValue"]) for k, v in attributes.items())
    return len(entry["MessageBody"].encode()) + extra


def _event_size(entry: dict[str, Any]) -> int:
    # How EventBridge counts an entry: 14 bytes of time, then source, detail-type, detail and resources.
    resources = sum(len(r.encode()) for r in entry["Resources"])
    return 14 + len(entry["Source"].encode()) + len(entry["DetailType"].encode()) + len(entry["Detail"]) + resources


class AwsTargets:
    """The AWS side of the relay: SQS SendMessageBatch and EventBridge PutEvents, one target after another."""

    def __init__(self, session_kwargs: Mapping[str, Any] | None = None) -> None:
        self._session_kwargs = dict(session_kwargs or {})
        self._clients: dict[str, Any] = {}
        self._queue_urls: dict[str, str] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            session = boto3.session.Session(**self._session_kwargs)
            self._clients[service] = session.client(service, config=client_config())
        return self._clients[service]

    def send(self, deliveries: Sequence[AwsDelivery]) -> None:
        groups: dict[tuple[str, str], list[AwsDelivery]] = {}
        for delivery in deliveries:
            if delivery.kind not in KINDS:
                raise TransportError(f"unknown AWS target kind {delivery.kind!r} (expected sqs or eventbridge)")
            groups.setdefault((delivery.kind, delivery.name), []).append(delivery)
        for (kind, name), group in groups.items():
            try:
                if kind == "sqs":
                    self._send_sqs(name, group)
                else:
                    self._put_events(name, group)
            except (BotoCoreError, ClientError) as exc:
                if kind == "sqs":
                    self._queue_urls.pop(name, None)  # the queue may have been deleted and made again
                raise TransportError(f"{kind} {name}: {exc}") from exc

    def _queue_url(self, name: str) -> str:
        if is_queue_url(name):
            return name
        if name not in self._queue_urls:
            self._queue_urls[name] = self._client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        return self._queue_urls[name]

    def _send_sqs(self, name: str, group: list[AwsDelivery]) -> None:
        url, queue = self._queue_url(name), sqs_queue_name(name)
        entries = [sqs_message(d.envelope, d.previous.get(queue)) for d in group]
        if queue.endswith(".fifo"):
            for entry in entries:  # FIFO: one message group per aggregate keeps its order; the id deduplicates
                envelope = json.loads(entry["MessageBody"])
                entry["MessageGroupId"] = f"{envelope['aggregatetype']}/{envelope['subject']}"[:128]
                entry["MessageDeduplicationId"] = envelope["id"]
        for chunk in _chunks(entries, _sqs_size):
            batch = [{"Id": str(i), **entry} for i, entry in enumerate(chunk)]
            response = self._client("sqs").send_message_batch(QueueUrl=url, Entries=batch)
            failed = response.get("Failed") or []
            if failed or len(response.get("Successful", [])) != len(batch):
                first = failed[0] if failed else {"Code": "?", "Message": "not every entry was acknowledged"}
                raise TransportError(
                    f"sqs {name}: {len(failed) or 'some'} of {len(batch)} messages refused "
                    f"({first.get('Code')}: {first.get('Message', '')})"
                )

    def _put_events(self, bus: str, group: list[AwsDelivery]) -> None:
        try:
            entries = [put_events_entry(json.loads(d.envelope), bus=bus, previous=d.previous) for d in group]
        except (ValueError, KeyError, TypeError) as exc:  # not an envelope: AWS would never take it
            raise TransportError(f"eventbridge {bus}: an envelope cannot become a PutEvents entry: {exc!r}") from exc
        for chunk in _chunks(entries, _event_size):
            response = self._client("events").put_events(Entries=chunk)
            if response.get("FailedEntryCount", 0) or len(response.get("Entries", [])) != len(chunk):
                errors = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
                first = errors[0] if errors else {"ErrorCode": "?", "ErrorMessage": "not every entry was accepted"}
                raise TransportError(
                    f"eventbridge {bus}: {response.get('FailedEntryCount', '?')} of {len(chunk)} events refused "
                    f"({first.get('ErrorCode')}: {first.get('ErrorMessage', '')})"
                )

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
