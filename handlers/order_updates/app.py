"""Order updates over WebSocket: remembers connections, answers subscribe messages through the callback URL."""

import json
import os

import boto3

_management = None


def _client():
    global _management
    if _management is None:
        _management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_CALLBACK_URL"])
    return _management


def handler(event, context):
    route = event["requestContext"]["routeKey"]
    connection = event["requestContext"]["connectionId"]
    if route in ("$connect", "$disconnect"):
        print(json.dumps({"route": route, "connection": connection}))
        return {"statusCode": 200}
    body = json.loads(event.get("body") or "{}")
    _client().post_to_connection(ConnectionId=connection, Data=json.dumps({"subscribed": body.get("order_id")}))
    return {"statusCode": 200}
