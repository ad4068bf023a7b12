"""Billing: consumes OrderPlaced messages fanned out by SNS through its own SQS queue.

Reports partial batch failures so one bad message does not re-run its whole batch.
"""

import json


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            order = json.loads(record["body"])
            if "order_id" not in order:
                raise ValueError("no order_id")
        except (ValueError, KeyError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
