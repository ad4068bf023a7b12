"""QueueConsumer: SQS -> ProductionFunction with a visibility timeout derived from the function."""

from __future__ import annotations

import typing

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk, _keys, _relations
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import common as plans_common
from lambda_constructs.core.plans import queue as queues
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.plans.queue import QueuePlan
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources import _mapping
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = queues.DEFAULT_BATCH_SIZE
_SQS_DEFAULT_RETENTION = Duration.days(4)  # SQS's default, stated explicitly
DEFAULT_MAX_RECEIVE_COUNT = queues.DEFAULT_MAX_RECEIVE_COUNT  # AWS recommends at least 5 (with-sqs)


class QueueConsumer(Construct):
    """An SQS queue, its dead-letter queue and an event source mapping to the function's ``live`` alias.

    Every limit follows from the function:

    - source queue visibility timeout = 6 x function timeout + max batching window (AWS Lambda
      developer guide, with-sqs). A queue passed in with a shorter one is refused with the value
      it needs; Lambda would otherwise reject the mapping at deploy time, or redeliver messages
      still being processed (aws-cdk#20527, SAM#1424).
    - redrive to a dead-letter queue after ``max_receive_count`` receives (default 5, AWS's
      recommended minimum); DLQ retention 14 days (SQS maximum). Both queues SSE-SQS encrypted
      and TLS-only.
    - ReportBatchItemFailures on, so one bad message does not re-run its whole batch
      ("AWS Lambda — Patterns and Production").

    Args:
        function: the consumer.
        queue: an existing queue; default a new one. A queue made in this app is checked (visibility
            timeout) and given a DLQ if it has none; an imported queue cannot be checked (warning).
        batch_size: default 10; standard queues 1..10,000 (above 10 needs a batching window),
            FIFO 1..10.
        max_batching_window: 0..300 s; default none.
        max_receive_count: 1..1,000; default 5.
        max_concurrency: ScalingConfig.MaximumConcurrency 2..1,000; default none (no cap).
        fifo: create FIFO queues (ignored for a queue passed in: its own type counts).
        max_message_age: alarm threshold for ApproximateAgeOfOldestMessage; default the visibility
            timeout (a message older than one full visibility cycle is not being worked off).
        alarm_topic: default the function's topic.
        filters: event filtering, a list of patterns as ``aws_lambda.FilterCriteria.filter`` takes them
            (or its results); syntax and the 5-filter quota checked. A message that matches no filter is
            deleted from the queue ("Control which events Lambda sends to your function").
        report_batch_item_failures: default True (the handler returns ``batchItemFailures``).
        provisioned_poller_config: ``aws_lambda.ProvisionedPollerConfig``: provisioned mode, 2..200
            minimum and 2..2,000 maximum pollers; cannot be combined with ``max_concurrency`` (the two are
            mutually exclusive: "Configuring scaling behavior for SQS event source mappings").
        metrics_config: ``aws_lambda.MetricsConfig(metrics=[MetricType.EVENT_COUNT, ...])``.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the queue and dead-letter queue this
            construct creates (not a ``queue=`` you pass); default SSE-SQS. See docs/encryption.md.
        removal_policy: what happens to the queue and dead-letter queue this construct creates (not a
            ``queue=`` you pass) when CloudFormation replaces them or the stack is deleted: default
            ``RemovalPolicy.RETAIN`` (they keep their messages; "DeletionPolicy attribute", AWS CloudFormation
            user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY`` otherwise. See docs/operations.md.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        queue: sqs.IQueue | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        max_concurrency: int | None = None,
        fifo: bool = False,
        max_message_age: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        filters: typing.Sequence[typing.Mapping[str, typing.Any]] | None = None,
        report_batch_item_failures: bool = True,
        provisioned_poller_config: lambda_.ProvisionedPollerConfig | None = None,
        metrics_config: lambda_.MetricsConfig | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        planned: list[QueuePlan] = []

        def check(problems: Problems) -> None:
            derived = check_queue_options(
                problems,
                function,
                queue=queue,
                fifo=fifo,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_receive_count=max_receive_count,
                max_concurrency=max_concurrency,
                max_message_age=max_message_age,
                alarm_topic=alarm_topic,
                scope=scope,
            )
            _check_mapping(
                problems,
                filters,
                report_batch_item_failures,
                provisioned_poller_config,
                metrics_config,
                max_concurrency,
            )
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            if not problems:
                planned.append(
                    _plan(
                        scope,
                        problems.path,
                        typing.cast(FunctionTarget, function),
                        queue,
                        fifo,
                        derived,
                        batch_size=batch_size,
                        max_receive_count=max_receive_count,
                        max_concurrency=max_concurrency,
                        max_message_age=max_message_age,
                        removal_policy=_cdk.removal_policy_name(removal_policy),
                    )
                )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self._mapping_options = {  # read by _build (after validation: the filters are wrapped only now)
            "filters": _mapping.filter_criteria(filters),
            "report_batch_item_failures": report_batch_item_failures,
            "provisioned_poller_config": provisioned_poller_config,
            "metrics_config": metrics_config,
        }
        self._key = _keys.key_for(self, encryption_key)
        self._build(planned[0], function, queue, max_batching_window, alarm_topic)
        _mapping.warn_filters(self, filters, "sqs")
        _bundle.note(self, scope, id, planned[0].resource_count)

    def _build(
        self,
        plan: QueuePlan,
        function: FunctionTarget,
        queue: sqs.IQueue | None,
        max_batching_window: Duration | None,
        alarm_topic: sns.ITopic | None,
    ) -> None:
        self.plan: QueuePlan = plan
        self.function = function
        self.visibility_timeout = _cdk.duration_seconds(plan.visibility_timeout_s)
        self.dead_letter_queue: sqs.IQueue | None
        self.queue: sqs.IQueue
        self.queue, self.dead_letter_queue = self._build_queues(queue, plan)
        queue_arn = self.queue.queue_arn
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=queue_arn,
            batch_size=plan.batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=plan.max_concurrency,
            **getattr(self, "_mapping_options", {"report_batch_item_failures": True}),
        )
        self.queue.grant_consume_messages(function.alias)
        path = _cdk.path_of(self)
        _relations.remember_consumer(self.queue, path)
        _relations.remember_mapping(function, queue_arn, path, f"the queue of {path}")
        # each on its resource: the mapping's own finding on the mapping, the DLQ's on the DLQ
        mapping_acks = [a for a in plan.acknowledgements if a[0].startswith("Serverless-LambdaEventSourceMapping")]
        _cdk.known_child(self.event_source_mapping, self, "EventSourceMapping")
        _cdk.acknowledge_resource(self.event_source_mapping, mapping_acks)
        dlq = self.dead_letter_queue
        if dlq is not None:  # on its resource; an imported queue has none of its own and gets none
            _cdk.acknowledge_resource(dlq, [a for a in plan.acknowledgements if a not in mapping_acks])
        _source.annotate(self, plan.notes)
        topic = _source.alarm_topic(function, alarm_topic)
        metrics = {"queue": self.queue, "dead_letter_queue": self.dead_letter_queue}
        alarms = [
            _cdk.build_alarm(self, alarm, _source.queue_metric(metrics[alarm.source], alarm), topic)
            for alarm in plan.alarms
        ]
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(*alarms)

    def _build_queues(self, queue: sqs.IQueue | None, plan: QueuePlan) -> tuple[sqs.IQueue, sqs.IQueue | None]:
        if queue is None:
            dlq = _cdk.secure_queue(
                self, "DeadLetterQueue", fifo=plan.fifo, encryption_key=self._key, removal=plan.removal_policy
            )
            source = _cdk.secure_queue(
                self,
                "Queue",
                fifo=plan.fifo,
                encryption_key=self._key,
                removal=plan.removal_policy,
                visibility_timeout=self.visibility_timeout,
                retention=_SQS_DEFAULT_RETENTION,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=plan.max_receive_count),
            )
            return source, dlq
        if plan.queue == "app-with-dlq":
            return queue, typing.cast(sqs.Queue, queue).dead_letter_queue.queue  # type: ignore[union-attr]
        if plan.queue == "app-without-dlq":
            dlq = _cdk.secure_queue(
                self, "DeadLetterQueue", fifo=plan.fifo, encryption_key=self._key, removal=plan.removal_policy
            )
            cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
            cfn.redrive_policy = {"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": plan.max_receive_count}
            return queue, dlq
        return queue, None


def _plan(
    scope: Construct,
    path: str,
    function: FunctionTarget,
    queue: object,
    fifo: object,
    derived: dict[str, int],
    *,
    batch_size: int,
    max_receive_count: int,
    max_concurrency: int | None,
    max_message_age: Duration | None,
    removal_policy: plans_common.RemovalPolicyName = plans_common.DEFAULT_REMOVAL_POLICY,
) -> QueuePlan:
    """The plan of a QueueConsumer whose options were checked (``derived``: visibility and window)."""
    kind: queues.QueueKind = "new"
    queue_path = ""
    if queue is not None:
        if isinstance(queue, sqs.Queue):
            kind = "app-with-dlq" if queue.dead_letter_queue is not None else "app-without-dlq"
        else:
            kind, queue_path = "imported", typing.cast(sqs.IQueue, queue).node.path
    _stack, stack_name, stack_path = _cdk.stack_info(scope)
    function_plan = getattr(function, "plan", None)
    invocation = function.invocation
    return queues.plan_queue(
        queues.QueueRequest(
            path=path,
            alarm_prefix=plans_common.alarm_prefix(stack_name, stack_path, path),
            queue=kind,
            fifo=_is_fifo(queue, fifo),
            visibility_timeout_s=derived["visibility"],
            batching_window_s=derived["window"],
            batch_size=batch_size,
            max_receive_count=max_receive_count,
            max_concurrency=max_concurrency,
            max_message_age_s=_cdk.seconds(max_message_age) if max_message_age is not None else None,
            function_path=function.node.path if invocation is not Invocation.QUEUE else "",
            function_invocation=invocation,
            function_reserved_concurrency=getattr(function, "reserved_concurrency", None),
            function_owns_role=bool(getattr(function_plan, "owns_role", False)),
            queue_path=queue_path,
            removal_policy=removal_policy,
        )
    )


def nested_plan(
    scope: Construct,
    path: str,
    function: object,
    derived: dict[str, int],
    *,
    batch_size: int,
    max_receive_count: int,
    max_concurrency: int | None,
    removal_policy: RemovalPolicy,
) -> QueuePlan:
    """The plan of the QueueConsumer a consumer in ``scope`` makes as ``Queue`` (``path``) for its queue side
    (S3Consumer with ``via_queue=True``, TopicConsumer), computed in that consumer's check once
    `check_queue_options` passed (``derived``)."""
    return _plan(
        scope,
        path,
        typing.cast(FunctionTarget, function),
        None,
        False,
        derived,
        batch_size=batch_size,
        max_receive_count=max_receive_count,
        max_concurrency=max_concurrency,
        max_message_age=None,
        removal_policy=_cdk.removal_policy_name(removal_policy),
    )


def _is_fifo(queue: object, fifo: object) -> bool:
    """A given queue's own type counts; otherwise only ``fifo=True`` (not a truthy string) makes FIFO."""
    if queue is not None and _cdk.implements(queue, "queue_arn"):
        return getattr(queue, "fifo", False) is True
    return fifo is True


# a given queue in another stack: the consumer's dead-letter queue (this stack) is named by the queue's
# redrive policy (that stack), and the mapping and the role's grant (this stack) name the queue
REDRIVE_CYCLE = (
    "its redrive policy would name this construct's dead-letter queue while the mapping names the queue, so "
    "each stack would reference the other (a dependency cycle at synthesis)"
)


def check_queue_options(
    problems: Problems,
    function: object,
    *,
    queue: object = None,
    fifo: object = False,
    batch_size: object = DEFAULT_BATCH_SIZE,
    max_batching_window: object = None,
    max_receive_count: object = DEFAULT_MAX_RECEIVE_COUNT,
    max_concurrency: object = None,
    max_message_age: object = None,
    alarm_topic: object = None,
    scope: object = None,
) -> dict[str, int]:
    """Validate a queue consumer's options (QueueConsumer, and the queue side of S3 and SNS consumers).

    Returns the derived figures: ``visibility`` (6 x function timeout + window) and ``window``.
    """
    is_fifo = _is_fifo(queue, fifo)
    if not _source.check_function(problems, function, scope=scope):
        return {}
    target = typing.cast(FunctionTarget, function)
    visibility, window = queues.queue_problems(
        problems,
        fifo=fifo,
        is_fifo=is_fifo,
        topic_problem=_source.topic_problem(alarm_topic, scope=scope),
        window=_window(max_batching_window),
        batch_size=batch_size,
        max_receive_count=max_receive_count,
        max_concurrency=max_concurrency,
        max_message_age=(
            None
            if max_message_age is None
            else Reading(problem=_cdk.duration_problem("max_message_age", max_message_age))
        ),
        queue_problem=(
            Problem("queue", queue, "an aws_sqs.IQueue or None")
            if queue is not None and not _cdk.implements(queue, "queue_arn")
            else None
        ),
        timeout_s=target.timeout_seconds,
    )
    if queue is not None and _cdk.implements(queue, "queue_arn"):
        problems.add(_relations.consumer_problem(queue))
        problems.add(_cdk.foreign_problem(scope, queue, "queue", same_stack_why=REDRIVE_CYCLE))
        given = typing.cast(sqs.IQueue, queue)
        problems.add(_relations.mapping_problem(function, given.queue_arn, "queue", _cdk.path_of(given)))
    if isinstance(queue, sqs.Queue):
        problems.add(_queue_visibility_problem(queue, visibility, target.timeout_seconds, window))
        problems.add(_dlq_retention_problem(queue))
    return {"visibility": visibility, "window": window}


def _window(window: object) -> Reading | None:
    """The batching window read once: whole seconds 0..300, or its problem (a token: the visibility timeout is
    derived from it, so a concrete value is needed)."""
    if window is None:
        return None
    problem = _cdk.duration_problem("max_batching_window", window, concrete=True) or _cdk.duration_range_problem(
        "max_batching_window", window, 0, limits.BATCHING_WINDOW_MAX_S
    )
    if problem or typing.cast(Duration, window).is_unresolved():
        return Reading(problem=problem)
    return Reading(_cdk.seconds(typing.cast(Duration, window)))


def _retention_s(queue: sqs.Queue) -> float | None:
    cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
    value = cfn.message_retention_period
    if value is None:
        return 345_600  # SQS default: 4 days
    return value if isinstance(value, int | float) and not _cdk.is_token(value) else None


def _dlq_retention_problem(queue: sqs.Queue) -> Problem | None:
    """A given queue's own DLQ must keep messages at least as long as the source queue.

    A standard queue keeps a message's original enqueue timestamp when it moves to the DLQ, so a
    DLQ with a shorter retention deletes redriven messages early (Amazon SQS developer guide,
    "Using dead-letter queues").
    """
    if queue.dead_letter_queue is None or not isinstance(queue.dead_letter_queue.queue, sqs.Queue):
        return None
    source, dlq = _retention_s(queue), _retention_s(queue.dead_letter_queue.queue)
    if source is None or dlq is None or dlq >= source:
        return None
    return Problem(
        "queue.dead_letter_queue.retention_period",
        f"{dlq:g} s",
        f">= the source queue's retention ({source:g} s)",
        "a standard queue keeps the original enqueue time, so a shorter DLQ loses redriven messages; "
        "use retention_period=Duration.days(14)",
    )


def _queue_visibility_problem(queue: sqs.Queue, required_s: int, timeout_s: int, window_s: int) -> Problem | None:
    cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
    current = cfn.visibility_timeout if cfn.visibility_timeout is not None else 30  # SQS default
    if not isinstance(current, int | float) or current >= required_s:
        return None
    return Problem(
        "queue.visibility_timeout",
        f"{current:g} s",
        f">= {required_s} s (6 x function timeout {timeout_s} s + batching window {window_s} s)",
        f"create the queue with visibility_timeout=Duration.seconds({required_s}) or omit queue= to let "
        "QueueConsumer create it",
    )


def _check_mapping(
    problems: Problems,
    filters: object,
    report_batch_item_failures: object,
    provisioned_poller_config: object,
    metrics_config: object,
    max_concurrency: object,
) -> None:
    """The mapping options QueueConsumer adds to the shared queue checks (filters, provisioned mode, metrics)."""
    _mapping.check_mapping_options(
        problems,
        "sqs",
        filters=filters,
        provisioned_poller_config=provisioned_poller_config,
        metrics_config=metrics_config,
    )
    problems.add(_mapping.bool_problem("report_batch_item_failures", report_batch_item_failures))
    if provisioned_poller_config is not None and max_concurrency is not None:
        problems.add(
            Problem(
                "max_concurrency",
                max_concurrency,
                "None with provisioned_poller_config",
                "maximum concurrency and provisioned mode are mutually exclusive on an SQS mapping "
                "('Configuring scaling behavior for SQS event source mappings', AWS Lambda developer guide); "
                "cap the pollers with provisioned_poller_config.maximum_pollers instead",
            )
        )
