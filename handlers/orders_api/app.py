"""Orders API: POST /orders stores an order and returns its id (example handler)."""

import json
import uuid


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    if "items" not in body:
        return {"statusCode": 400, "body": json.dumps({"error": "items is required"})}
    return {"statusCode": 201, "body": json.dumps({"order_id": str(uuid.uuid4())})}
