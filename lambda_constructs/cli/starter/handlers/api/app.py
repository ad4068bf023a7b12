"""HTTP API handler (GET /items, POST /items): Powertools event handler, structured JSON logs.

Powertools comes from its Lambda layer (ProductionFunction(powertools=Powertools(...)) adds it);
requirements-dev.txt installs the same package for the tests.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
app = APIGatewayHttpResolver()
MAX_NAME = 200


@app.get("/items")
def list_items() -> dict[str, list[dict[str, str]]]:
    return {"items": []}


@app.post("/items")
def create_item() -> Response[dict[str, str]]:
    item = _json_object()
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise BadRequestError(f"'name' must be a string of 1..{MAX_NAME} characters")
    logger.info("item created", extra={"item_name": name})
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body={"created": name})


def _json_object() -> dict[str, Any]:
    """The request body as a JSON object; 400 for anything else (isBase64Encoded bodies are decoded first)."""
    try:
        body = app.current_event.json_body  # decodes base64 when isBase64Encoded is true
    except ValueError:  # invalid JSON, base64 or UTF-8 (all ValueErrors): the client's mistake, not a 500
        raise BadRequestError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    return body


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
