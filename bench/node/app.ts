// The fleet benchmark's TypeScript side: the workers of a spec written by bench/fleet_spec.py, built with
// aws-cdk-lib on Node.js, with the same constructs, calls and order as build_raw() there.
//
//   node bench/node/app.ts SPEC.json OUTDIR   -> synthesizes into OUTDIR, prints one JSON line of timings
//
// Node.js 22.18+ runs this file as it is (type stripping: only erasable TypeScript syntax here);
// `npm run typecheck` checks it with the TypeScript compiler.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import * as cdk from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";

interface AlarmSpec {
  id: string;
  of: "function" | "queue" | "dlq";
  metric: string;
  statistic: string;
  period_s: number;
  threshold: number;
  comparison_operator: keyof typeof cloudwatch.ComparisonOperator;
  evaluation_periods: number;
  treat_missing_data: keyof typeof cloudwatch.TreatMissingData;
  name: string;
  description: string;
}

interface QueueSpec {
  encryption: keyof typeof sqs.QueueEncryption;
  enforce_ssl: boolean;
  retention_days: number;
  removal_policy: keyof typeof cdk.RemovalPolicy;
  visibility_timeout_s?: number;
  max_receive_count?: number;
}

interface WorkerSpec {
  name: string;
  function: {
    handler: string;
    runtime: string;
    architecture: string;
    memory_mib: number;
    timeout_s: number;
    tracing: "ACTIVE" | "PASS_THROUGH";
    tracing_policy: { name: string; actions: string[] };
    recursive_loop: keyof typeof lambda.RecursiveLoop;
    log_retention: keyof typeof logs.RetentionDays;
    role_description: string;
    log_actions: string[];
    logging_format: keyof typeof lambda.LoggingFormat;
    application_log_level: keyof typeof lambda.ApplicationLogLevel;
    system_log_level: keyof typeof lambda.SystemLogLevel;
    alias: string;
  };
  queue: QueueSpec;
  dlq: QueueSpec;
  mapping: { batch_size: number; report_batch_item_failures: boolean };
  alarms: AlarmSpec[];
}

interface FleetSpec {
  version: number;
  stack: string;
  alarm_topic: string;
  code: { path: string; exclude: string[] };
  nested_stacks: { id: string; workers: WorkerSpec[] }[];
}

declare global {
  // bench/node/heap_probe.cjs, when loaded with --require, samples the V8 heap
  var __benchHeapSample: (() => void) | undefined;
}

function buildFleet(stack: cdk.Stack, topic: sns.ITopic, spec: FleetSpec): void {
  const action = new actions.SnsAction(topic);
  const stackName = cdk.Aws.STACK_NAME;
  const periods = new Map<number, cdk.Duration>();
  const runtimes = lambda.Runtime as unknown as Record<string, lambda.Runtime>;
  const architectures = lambda.Architecture as unknown as Record<string, lambda.Architecture>;
  for (const nestedSpec of spec.nested_stacks) {
    const nested = new cdk.NestedStack(stack, nestedSpec.id);
    const code = lambda.Code.fromAsset(spec.code.path, { exclude: spec.code.exclude });
    for (const w of nestedSpec.workers) {
      const { name, function: f, queue: q, dlq: d, mapping: m } = w;
      const logGroup = new logs.LogGroup(nested, `${name}Logs`, { retention: logs.RetentionDays[f.log_retention] });
      const role = new iam.Role(nested, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        description: f.role_description,
        inlinePolicies: {
          [f.tracing_policy.name]: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: f.tracing_policy.actions, resources: ["*"] })],
          }),
        },
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: f.log_actions, resources: [logGroup.logGroupArn] }));
      const fn = new lambda.Function(nested, name, {
        code,
        handler: f.handler,
        runtime: runtimes[f.runtime],
        architecture: architectures[f.architecture],
        memorySize: f.memory_mib,
        timeout: cdk.Duration.seconds(f.timeout_s),
        tracing: lambda.Tracing.DISABLED, // the role has the X-Ray statement: the mode is set below
        recursiveLoop: lambda.RecursiveLoop[f.recursive_loop],
        logGroup,
        role,
        loggingFormat: lambda.LoggingFormat[f.logging_format],
        applicationLogLevelV2: lambda.ApplicationLogLevel[f.application_log_level],
        systemLogLevelV2: lambda.SystemLogLevel[f.system_log_level],
      });
      (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = {
        mode: { ACTIVE: "Active", PASS_THROUGH: "PassThrough" }[f.tracing],
      };
      // as the library renders it: DependsOn the role's default policy, not the role its GetAtt implies (W3005)
      const policy = role.node.findChild("DefaultPolicy").node.defaultChild as cdk.CfnElement;
      (fn.node.defaultChild as cdk.CfnResource).addOverride("DependsOn", [nested.getLogicalId(policy)]);
      const alias = new lambda.Alias(nested, `${name}Live`, { aliasName: f.alias, version: fn.currentVersion });
      const dlq = new sqs.Queue(nested, `${name}Dlq`, {
        encryption: sqs.QueueEncryption[d.encryption],
        enforceSSL: d.enforce_ssl,
        retentionPeriod: cdk.Duration.days(d.retention_days),
        removalPolicy: cdk.RemovalPolicy[d.removal_policy],
      });
      const queue = new sqs.Queue(nested, `${name}Queue`, {
        encryption: sqs.QueueEncryption[q.encryption],
        enforceSSL: q.enforce_ssl,
        visibilityTimeout: cdk.Duration.seconds(q.visibility_timeout_s!),
        retentionPeriod: cdk.Duration.days(q.retention_days),
        deadLetterQueue: { queue: dlq, maxReceiveCount: q.max_receive_count! },
        removalPolicy: cdk.RemovalPolicy[q.removal_policy],
      });
      new lambda.EventSourceMapping(nested, `${name}Mapping`, {
        target: alias,
        eventSourceArn: queue.queueArn,
        batchSize: m.batch_size,
        reportBatchItemFailures: m.report_batch_item_failures,
      });
      queue.grantConsumeMessages(alias);
      const sources = { function: fn, queue, dlq };
      for (const a of w.alarms) {
        let period = periods.get(a.period_s);
        if (period === undefined) {
          period = cdk.Duration.seconds(a.period_s);
          periods.set(a.period_s, period);
        }
        const alarm = new cloudwatch.Alarm(nested, `${name}${a.id}`, {
          alarmName: a.name.replace("${AWS::StackName}", stackName),
          alarmDescription: a.description,
          metric: sources[a.of].metric(a.metric, { period, statistic: a.statistic }),
          threshold: a.threshold,
          comparisonOperator: cloudwatch.ComparisonOperator[a.comparison_operator],
          evaluationPeriods: a.evaluation_periods,
          treatMissingData: cloudwatch.TreatMissingData[a.treat_missing_data],
        });
        alarm.addAlarmAction(action);
      }
    }
  }
}

function main(): void {
  const [specPath, outdir] = process.argv.slice(2);
  if (!specPath || !outdir) {
    throw new Error("usage: node bench/node/app.ts SPEC.json OUTDIR");
  }
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as FleetSpec;
  if (spec.version !== 1) {
    throw new Error(`spec version ${spec.version}: this builder reads version 1`);
  }
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, spec.stack);
  const topic = new sns.Topic(stack, spec.alarm_topic);
  const t0 = performance.now();
  buildFleet(stack, topic, spec);
  const t1 = performance.now();
  globalThis.__benchHeapSample?.();
  app.synth();
  const t2 = performance.now();
  globalThis.__benchHeapSample?.();
  const heap = process.memoryUsage();
  console.log(
    JSON.stringify({
      construct_s: (t1 - t0) / 1000,
      synth_s: (t2 - t1) / 1000,
      process_s: process.uptime(),
      node_heap_used_end_mib: heap.heapUsed / 2 ** 20,
      node_peak_mib: process.resourceUsage().maxRSS / 1024,
      node_version: process.version,
      aws_cdk_lib: (JSON.parse(readFileSync(new URL("node_modules/aws-cdk-lib/package.json", import.meta.url), "utf8")) as { version: string }).version,
    }),
  );
}

main();
