"""Queue worker: reports partial batch failures so one bad message does not re-run its whole batch."""

import json


def process(message: dict) -> None:
    if "id" not in message:
        raise ValueError("message without id")


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            process(json.loads(record["body"]))
        except (ValueError, KeyError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
