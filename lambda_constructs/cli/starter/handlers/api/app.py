"""HTTP API handler: structured JSON logs with the request id (Powertools Logger when its layer is present)."""

import json
import os

try:  # the Powertools layer, added by ProductionFunction(powertools=Powertools(...))
    from aws_lambda_powertools import Logger

    logger = Logger()
except ImportError:  # local tests: the same fields through the standard library
    import logging

    logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "{{service}}"))


def handler(event, context):
    route = event.get("routeKey", "")
    logger.info("request", extra={"route": route})
    if route == "POST /items":
        body = json.loads(event.get("body") or "{}")
        return {"statusCode": 201, "body": json.dumps({"created": body.get("name", "")})}
    return {"statusCode": 200, "body": json.dumps({"items": []})}
