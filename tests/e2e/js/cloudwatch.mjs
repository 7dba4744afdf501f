// Drive logsieve's CloudWatch API with the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch)
// and print one JSON report. Run by tests/metrics/test_js_sdk.py. Environment:
//   LOGSIEVE_ENDPOINT, LOGSIEVE_NAMESPACE, LOGSIEVE_START (epoch seconds, minute-aligned)
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION
// A middleware records what went on the wire (path and content type), so the test knows
// which of CloudWatch's protocols this SDK speaks.
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  InvalidParameterCombinationException,
  ListMetricsCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";

const endpoint = process.env.LOGSIEVE_ENDPOINT;
const namespace = process.env.LOGSIEVE_NAMESPACE;
const start = Number(process.env.LOGSIEVE_START);
const client = new CloudWatchClient({ endpoint, maxAttempts: 1 });
const wire = [];
client.middlewareStack.add(
  (next) => async (args) => {
    const request = args.request;
    wire.push({ path: request.path, contentType: request.headers["content-type"] ?? null,
                target: request.headers["x-amz-target"] ?? null });
    return next(args);
  },
  { step: "finalizeRequest", name: "recordWire" },
);

async function attempt(command) {
  try {
    const output = await client.send(command);
    delete output.$metadata;
    return { ok: true, output };
  } catch (err) {
    return { ok: false, name: err.name, message: err.message,
             modeled: err instanceof InvalidParameterCombinationException };
  }
}

const at = (s) => new Date(s * 1000);
const report = {};
report.put = await attempt(new PutMetricDataCommand({
  Namespace: namespace,
  MetricData: [
    { MetricName: "Rejects", Value: 3, Unit: "Count", Timestamp: at(start + 1) },
    { MetricName: "Rejects", Values: [1, 2], Counts: [2, 1], Unit: "Count", Timestamp: at(start + 2) },
  ],
}));
report.stats = await attempt(new GetMetricStatisticsCommand({
  Namespace: namespace, MetricName: "Rejects", StartTime: at(start), EndTime: at(start + 60),
  Period: 60, Statistics: ["Sum", "SampleCount"],
}));
report.data = await attempt(new GetMetricDataCommand({
  StartTime: at(start), EndTime: at(start + 60),
  MetricDataQueries: [{ Id: "r", MetricStat: { Metric: { Namespace: namespace, MetricName: "Rejects" },
                                               Period: 60, Stat: "Maximum" } }],
}));
report.list = await attempt(new ListMetricsCommand({ Namespace: namespace }));
report.bad = await attempt(new PutMetricDataCommand({
  Namespace: namespace, MetricData: [{ MetricName: "m", Value: 1, Values: [1] }],
}));
report.wire = wire;
console.log(JSON.stringify(report));
