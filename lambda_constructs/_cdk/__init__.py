"""Small CDK helpers shared by every construct family, one module per concern.

- `tokens`: tokens, durations read once, interface checks, short reprs for messages;
- `paths`: construct paths, nodes and stacks read once;
- `validation`: the one validation path (`validated()`, `unique_id()`) and its checks;
- `alarms`: alarms with the library's conventions;
- `annotations`: a plan's notes as construct annotations;
- `queues`: the queues the library creates;
- `acknowledgements`: rule-pack acknowledgements, sent to jsii only when cdk-nag reads them;
- `dependencies`: the DependsOn a function's GetAtt of its role already implies, left out.

Every name is re-exported here, so ``from lambda_constructs import _cdk`` and ``_cdk.<name>`` work as
before. The modules import each other directly (never through this package), so there is no cycle.
"""

from __future__ import annotations

from lambda_constructs._cdk.acknowledgements import (
    acknowledge,
    acknowledge_all,
    acknowledge_dead_letter_target,
    acknowledge_resource,
    dead_letter_target_acks,
    default_policy_of,
    resource_of,
)
from lambda_constructs._cdk.alarms import (
    ALARM_PERIOD,
    DURATION_ALARM_FRACTION,
    alarm_name,
    alarm_prefix,
    build_alarm,
    build_function_alarms,
    make_alarm,
    queue_depth_alarm,
    sns_action,
)
from lambda_constructs._cdk.annotations import annotate
from lambda_constructs._cdk.dependencies import drop_role_depends_on
from lambda_constructs._cdk.paths import (
    child_path,
    id_of,
    known_child,
    node_of,
    path_of,
    root_of,
    stack_info,
    stack_of,
)
from lambda_constructs._cdk.queues import (
    DLQ_RETENTION,
    removal_policy,
    removal_policy_name,
    removal_policy_problem,
    secure_queue,
)
from lambda_constructs._cdk.tokens import duration_seconds, implements, is_token, milliseconds, seconds, short
from lambda_constructs._cdk.validation import (
    duration_problem,
    duration_range_problem,
    foreign_problem,
    topic_problem,
    unique_id,
    validated,
)

__all__ = [
    "ALARM_PERIOD",
    "DLQ_RETENTION",
    "DURATION_ALARM_FRACTION",
    "acknowledge",
    "acknowledge_all",
    "acknowledge_dead_letter_target",
    "acknowledge_resource",
    "alarm_name",
    "alarm_prefix",
    "annotate",
    "build_alarm",
    "build_function_alarms",
    "child_path",
    "dead_letter_target_acks",
    "default_policy_of",
    "drop_role_depends_on",
    "duration_problem",
    "duration_range_problem",
    "duration_seconds",
    "foreign_problem",
    "id_of",
    "implements",
    "is_token",
    "known_child",
    "make_alarm",
    "milliseconds",
    "node_of",
    "path_of",
    "queue_depth_alarm",
    "removal_policy",
    "removal_policy_name",
    "removal_policy_problem",
    "resource_of",
    "root_of",
    "seconds",
    "secure_queue",
    "short",
    "sns_action",
    "stack_info",
    "stack_of",
    "topic_problem",
    "unique_id",
    "validated",
]
