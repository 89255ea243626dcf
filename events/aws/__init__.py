"""The AWS path of the event backbone: envelopes on EventBridge and SQS, and the consumers that read them.

- ``events.aws.codec``: how an envelope travels (PutEvents entry, SQS message) and is rebuilt exactly;
- ``events.aws.names``: which SQS queue and EventBridge bus names and ARNs are valid;
- ``events.aws.targets``: ``AwsTargets.send(deliveries)``, batched, acknowledged or ``TransportError``;
- ``events.aws.deploy``: a rules file as EventBridge rules with SQS targets (``events_rules deploy``);
- ``events.aws.sqs_consumer``: the long-polling SQS consumer behind ``events_consume --sqs``.

Lambda handlers live in ``events.aws_lambda``. This package's ``__init__`` imports nothing, so importing the
codec (as ``events.envelope`` does) never loads boto3.
"""
