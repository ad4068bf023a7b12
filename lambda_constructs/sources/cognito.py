"""CognitoTriggers: Amazon Cognito user pool Lambda triggers on each function's ``live`` alias."""

from __future__ import annotations

import typing
from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import callers as plans
from lambda_constructs.core.plans.callers import TRIGGERS_PAGE, CognitoPlan, CognitoTrigger
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

__all__ = ["TRIGGERS_PAGE", "CognitoTriggers"]


class CognitoTriggers(Construct):
    """Lambda triggers on a Cognito user pool, each invoking its function's ``live`` alias.

    Cognito invokes a trigger synchronously and waits 5 seconds; without an answer it retries, up to
    three attempts, and then fails the user's sign-up or sign-in. The 5 s cannot be changed
    ("Customizing user pool workflows with Lambda triggers", Amazon Cognito developer guide), so a
    function timeout of 5 s or more is refused: Cognito would retry while the first run still works.

    Each trigger function gets one resource-policy statement allowing ``cognito-idp.amazonaws.com``
    to invoke its ``live`` alias for this user pool only (``SourceArn`` = the pool's ARN). A trigger
    runs on a sign-up or a sign-in, not on every request: ``Invocation.WORKFLOW`` (no provisioned
    concurrency) fits; a pre-token-generation trigger on a busy pool may want provisioned
    concurrency, pass it explicitly.

    ``.plan`` is its ``CognitoPlan`` (``core/plans/callers.py``): each trigger's LambdaConfig key and
    permission, the warnings, decided before anything is set on the pool.

    Args:
        user_pool: a ``cognito.UserPool`` made in this app (triggers are part of its definition).
        triggers: ``{cognito.UserPoolOperation.PRE_SIGN_UP: fn, ...}``; one function per operation.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        user_pool: cognito.UserPool,
        triggers: Mapping[cognito.UserPoolOperation, FunctionTarget],
    ) -> None:
        def check(problems: Problems) -> None:
            if not isinstance(user_pool, cognito.UserPool):
                problems.add(
                    Problem(
                        "user_pool",
                        _cdk.short(user_pool),
                        "an aws_cognito.UserPool made in this app",
                        "an imported pool's triggers are set where the pool is defined",
                    )
                )
            if not isinstance(triggers, Mapping) or not triggers:
                problems.add(
                    Problem(
                        "triggers", _cdk.short(triggers), "a non-empty mapping of cognito.UserPoolOperation to function"
                    )
                )
                return
            existing = _existing_triggers(user_pool) if isinstance(user_pool, cognito.UserPool) else set()
            facts: list[CognitoTrigger] = []
            for operation, fn in triggers.items():
                name = getattr(operation, "operation_name", None)
                prop = f"triggers[{name or _cdk.short(operation)}]"
                if not isinstance(operation, cognito.UserPoolOperation) or name not in plans.COGNITO_OPERATIONS:
                    problems.add(Problem(prop, _cdk.short(operation), "a cognito.UserPoolOperation"))
                    continue
                name = typing.cast(str, name)
                problems.add(plans.taken_operation_problem(prop, name, existing))
                if not _source.check_function(problems, fn):
                    continue
                target = typing.cast(FunctionTarget, fn)
                problems.add(plans.cognito_timeout_problem(f"{prop}.timeout", target.timeout_seconds))
                facts.append(CognitoTrigger(name, _cdk.path_of(typing.cast(Construct, target)), target.invocation))
            if not problems:
                planned.append(plans.plan_cognito(problems.path, tuple(facts)))

        planned: list[CognitoPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: CognitoPlan = planned[0]
        self.user_pool = user_pool
        self.triggers: dict[str, FunctionTarget] = {}
        for trigger, (operation, fn) in zip(self.plan.triggers, triggers.items(), strict=True):
            user_pool.add_trigger(operation, fn.alias)  # Lambda's permission is made under the pool
            self.triggers[trigger.operation] = fn
        _cdk.annotate(self, self.plan.notes)
        _bundle.note(self, scope, id, self.plan.resource_count)


def _existing_triggers(pool: cognito.UserPool) -> set[str]:
    """The operations that already have a trigger (the pool's props or an earlier add_trigger)."""
    cfn = typing.cast(cognito.CfnUserPool, pool.node.default_child)
    # the lambda_config getter returns an empty struct for aws-cdk-lib's lazy value: read the properties
    config = Stack.of(cfn).resolve(cfn._cfn_properties).get("lambdaConfig") or {}
    return {key for key, value in config.items() if value} if isinstance(config, dict) else set()
