"""The handlers with the sample events and with bad input: bad messages fail alone, bad bodies are a 400."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.typing import LambdaContext
from handlers.api.app import handler as api
from handlers.worker.app import handler as worker

from tests.conftest import event


def _post(body: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    request = event("api-post-item.json")
    request.update(body=body, isBase64Encoded=base64_encoded)
    return request


def test_get_items(context: LambdaContext) -> None:
    response = api(event("api-get-items.json"), context)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"items": []}


def test_post_item(context: LambdaContext) -> None:
    response = api(event("api-post-item.json"), context)
    assert response["statusCode"] == 201 and json.loads(response["body"]) == {"created": "first item"}


def test_a_base64_encoded_body_is_decoded(context: LambdaContext) -> None:
    body = base64.b64encode(b'{"name": "encoded"}').decode()
    response = api(_post(body, base64_encoded=True), context)
    assert response["statusCode"] == 201 and json.loads(response["body"]) == {"created": "encoded"}


@pytest.mark.parametrize(
    ("body", "base64_encoded", "message"),
    [
        ("not json", False, "the body must be a JSON object"),
        ("[1, 2]", False, "the body must be a JSON object"),
        ("", False, "the body must be a JSON object"),
        ("%%%not base64", True, "the body must be a JSON object"),
        (base64.b64encode(b"\xff\xfe").decode(), True, "the body must be a JSON object"),
        ('{"name": 5}', False, "'name' must be a string of 1..200 characters"),
        ('{"name": ""}', False, "'name' must be a string of 1..200 characters"),
    ],
)
def test_a_bad_body_is_a_400_not_a_500(body: str, base64_encoded: bool, message: str, context: LambdaContext) -> None:
    response = api(_post(body, base64_encoded=base64_encoded), context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"] == message


def test_an_unknown_route_is_a_404(context: LambdaContext) -> None:
    request = event("api-get-items.json")
    request["rawPath"] = request["requestContext"]["http"]["path"] = "/nothing"
    assert api(request, context)["statusCode"] == 404


def test_only_the_bad_messages_of_a_batch_fail(context: LambdaContext) -> None:
    batch = event("worker-batch.json")  # a good job, a body that is not JSON, an object without "id"
    ids = [r["messageId"] for r in batch["Records"]]
    assert worker(batch, context) == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}


@pytest.mark.parametrize("body", ["null", "[]", '"text"', "5", "{"])
def test_any_bad_message_fails_alone(body: str, context: LambdaContext) -> None:
    batch = event("worker-batch.json")
    good, bad = batch["Records"][0], dict(batch["Records"][1], body=body)
    batch["Records"] = [good, bad]
    assert worker(batch, context) == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}


def test_a_batch_where_every_message_fails_is_retried_whole(context: LambdaContext) -> None:
    batch = event("worker-batch.json")
    batch["Records"] = batch["Records"][1:]
    with pytest.raises(BatchProcessingError, match="All records failed"):
        worker(batch, context)
