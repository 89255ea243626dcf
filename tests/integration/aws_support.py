"""Helpers for tests against the moto server: clients, uniquely named queues and buses, reading queues back."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3


def sqs() -> Any:
    return boto3.client("sqs")


def eventbridge() -> Any:
    return boto3.client("events")


def unique(stem: str) -> str:
    return f"t{uuid.uuid4().hex[:10]}-{stem}"


def make_queue(stem: str, **attributes: str) -> str:
    """A new queue (unique name) on the moto server; returns its URL."""
    return str(sqs().create_queue(QueueName=unique(stem), Attributes=attributes)["QueueUrl"])


def queue_arn(url: str) -> str:
    return str(sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def drain(url: str, expected: int, deadline_s: float = 10.0) -> list[dict[str, Any]]:
    """Receive and delete messages until ``expected`` arrived (or the deadline passed), in arrival order."""
    client, received = sqs(), []
    deadline = time.monotonic() + deadline_s
    while len(received) < expected and time.monotonic() < deadline:
        response = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"],
            AttributeNames=["ApproximateReceiveCount"],
        )  # fmt: skip
        for message in response.get("Messages", []):
            received.append(message)
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def counts(url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs().get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def send(url: str, body: str, previous: int | None = None) -> None:
    attributes = {} if previous is None else {"previous": {"DataType": "Number", "StringValue": str(previous)}}
    sqs().send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
