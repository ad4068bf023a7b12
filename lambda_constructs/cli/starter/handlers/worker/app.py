"""Queue worker: Powertools' BatchProcessor reports each failed message, so only those are retried.

Any exception while processing one record (bad JSON, a wrong type, a missing field, a bug) marks that
record failed in ``batchItemFailures``; the queue's ReportBatchItemFailures (set by QueueConsumer)
makes SQS redeliver only those, and after the redrive limit they land in the dead-letter queue. When
every record of a batch fails, Powertools raises BatchProcessingError and the whole batch is retried.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


class InvalidJob(ValueError):
    """A message that can never succeed (it goes to the dead-letter queue after the redrive limit)."""


def process(job: dict[str, Any]) -> None:
    """Your work for one job; raise to fail this message only."""
    logger.info("job processed", extra={"job_id": job["id"]})


def record_handler(record: SQSRecord) -> None:
    job = record.json_body  # json.JSONDecodeError for a body that is not JSON
    if not isinstance(job, dict) or "id" not in job:
        raise InvalidJob(f"message {record.message_id}: expected a JSON object with an 'id'")
    process(job)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
