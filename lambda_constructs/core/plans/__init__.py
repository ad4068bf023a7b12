"""Plans: every decision and derived number of a construct, as a frozen pure-Python value (no CDK import).

Each construct family has its module (``function``, ``queue``, ``stream``, ``kafka``, ``schedule``,
``notification`` (S3Consumer, TopicConsumer), ``endpoint`` (the HTTP front doors: the API Gateway HTTP
and REST endpoints, LoadBalancerTarget), ``websocket`` (WebSocketEndpoint), ``edge`` (EdgeFunction,
Lambda@Edge), ``callers`` (AppSyncDataSource, CognitoTriggers, WorkflowTask), ``dashboard``
(ServiceDashboard)). A construct reads its CDK props into plain facts,
asks its plan function for the plan (the one validation path: every problem is recorded there, nothing is
built yet), then builds from the plan in one pass. The
plan is what unit tests, ``report`` and the docs reason about; it knows the alarms (names,
thresholds, periods), acknowledgements, annotations, the metadata record and how many
CloudFormation resources the construct will create.
"""
