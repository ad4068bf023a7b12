"""Storefront pages behind the Application Load Balancer: answers with a JSON body under 1 MB."""

import json


def handler(event, context):
    path = event.get("path", "/")
    return {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "isBase64Encoded": False,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"path": path}),
    }
