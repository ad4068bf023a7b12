"""``default_alarm_topic``: one alarm destination for every library construct under an app or stack."""

from __future__ import annotations

from aws_cdk import Stack, Stage
from aws_cdk import aws_sns as sns

from lambda_constructs import _cdk
from lambda_constructs._cdk import alarms
from lambda_constructs.core.errors import ConfigurationError, Problem


def default_alarm_topic(scope: Stage | Stack, topic: sns.ITopic) -> sns.ITopic:
    """Send every alarm the library creates under ``scope`` to ``topic``, unless a construct is given ``alarm_topic=``.

    ``scope`` is the App, a Stage or a Stack (a nested stack included); the nearest one with a default wins
    (a stack's default over its app's). Call it right after creating the app or stack: it applies to the
    constructs created after it. An explicit ``alarm_topic=`` on a construct still wins. A topic in another
    stack of the same app is referenced across stacks by aws-cdk-lib.

    Why a default at all: what an alarm does when it changes state is its actions, an SNS topic's
    subscribers being the usual ones ("Alarm actions", Amazon CloudWatch User Guide,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html); with none it changes
    state in the console and notifies nobody. Every library alarm without one also gets the warning
    ``lambda-constructs:alarm-without-action`` (once per construct).

    Returns ``topic``. Raises ``ConfigurationError`` for a scope that is not an App, Stage or Stack, a value
    that is not an SNS topic, or a scope that already has another default topic.
    """
    where = "default_alarm_topic"
    problems: list[Problem] = []
    if not isinstance(scope, Stage | Stack):
        problems.append(Problem("scope", _cdk.short(scope), "an App, a Stage or a Stack"))
    else:
        where = f"default_alarm_topic({_cdk.path_of(scope) or '<app>'})"
    if topic is None or _cdk.topic_problem(topic, "topic") is not None:
        problems.append(Problem("topic", _cdk.short(topic), "an aws_sns.ITopic"))
    if problems:
        raise ConfigurationError(problems, where)
    if alarms.set_default_topic(scope, topic) is not None:
        raise ConfigurationError(
            [Problem("topic", _cdk.short(topic), "the topic already set for this scope (one default per scope)")],
            where,
        )
    return topic
