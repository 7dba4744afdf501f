// Drive a logsieve server with the AWS SDK for JavaScript v3 and print one JSON report on stdout.
//
// Run by tests/e2e/test_js_sdk.py, which asserts on the report. Environment:
//   LOGSIEVE_ENDPOINT   the server's URL (http://127.0.0.1:PORT)
//   LOGSIEVE_GROUP      a log group name that does not exist yet
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION   picked up by the SDK itself
//
// Every call is recorded, errors included, so the Python side sees exactly what the SDK made
// of each response: the error's `name` (which the SDK takes from the X-Amzn-ErrorType header),
// whether it is an instance of the modeled exception class, and the raw header it came from.
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  InvalidParameterException,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  paginateDescribeLogStreams,
  paginateFilterLogEvents,
} from "@aws-sdk/client-cloudwatch-logs";

const endpoint = process.env.LOGSIEVE_ENDPOINT;
const group = process.env.LOGSIEVE_GROUP;
if (!endpoint || !group) {
  console.error("LOGSIEVE_ENDPOINT and LOGSIEVE_GROUP must be set");
  process.exit(2);
}

const client = new CloudWatchLogsClient({ endpoint, maxAttempts: 1 });

const modeled = { InvalidParameterException, ResourceAlreadyExistsException, ResourceNotFoundException };

async function attempt(command) {
  try {
    const output = await client.send(command);
    delete output.$metadata;
    return { ok: true, output };
  } catch (err) {
    const cls = modeled[err.name];
    return {
      ok: false,
      name: err.name,
      message: err.message,
      fault: err.$fault ?? null,
      httpStatus: err.$metadata?.httpStatusCode ?? null,
      modeledInstance: cls ? err instanceof cls : false,
      // The raw response the SDK attached to the error.
      errorTypeHeader: err.$response?.headers?.["x-amzn-errortype"] ?? null,
    };
  }
}

const report = {};
const now = Date.now();
const messages = ["first line", "ERROR something broke", "naïve café ✓ 日本語", '{"level":"warn","ms":42}'];

report.createGroup = await attempt(new CreateLogGroupCommand({ logGroupName: group }));
report.createStream = await attempt(
  new CreateLogStreamCommand({ logGroupName: group, logStreamName: "app" }),
);
report.put = await attempt(
  new PutLogEventsCommand({
    logGroupName: group,
    logStreamName: "app",
    logEvents: messages.map((message, i) => ({ timestamp: now + i, message })),
  }),
);
report.get = await attempt(
  new GetLogEventsCommand({ logGroupName: group, logStreamName: "app", startFromHead: true }),
);
report.filter = await attempt(
  new FilterLogEventsCommand({ logGroupName: group, filterPattern: "ERROR" }),
);
report.filterJson = await attempt(
  new FilterLogEventsCommand({ logGroupName: group, filterPattern: "{ $.ms > 40 }" }),
);
report.describeGroups = await attempt(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));

// The SDK's own paginator over DescribeLogStreams, one stream per page.
for (const name of ["b", "c"]) {
  await client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: name }));
}
try {
  const names = [];
  let pages = 0;
  for await (const page of paginateDescribeLogStreams(
    { client, pageSize: 1 },
    { logGroupName: group },
  )) {
    pages += 1;
    names.push(...page.logStreams.map((s) => s.logStreamName));
  }
  report.paginatedStreams = { ok: true, pages, names };
} catch (err) {
  report.paginatedStreams = { ok: false, name: err.name, message: err.message };
}

// The SDK's paginator over FilterLogEvents: 25 matching events, 10 per page, oldest first.
await client.send(
  new PutLogEventsCommand({
    logGroupName: group,
    logStreamName: "b",
    logEvents: Array.from({ length: 25 }, (_, i) => ({
      timestamp: now + 100 + i,
      message: `tick ${i}`,
    })),
  }),
);
try {
  const messages = [];
  let pages = 0;
  for await (const page of paginateFilterLogEvents(
    { client, pageSize: 10 },
    { logGroupName: group, filterPattern: "tick" },
  )) {
    pages += 1;
    messages.push(...page.events.map((e) => e.message));
  }
  report.paginatedFilter = { ok: true, pages, messages };
} catch (err) {
  report.paginatedFilter = { ok: false, name: err.name, message: err.message };
}

// Errors.
report.missingGroup = await attempt(
  new GetLogEventsCommand({ logGroupName: `${group}-missing`, logStreamName: "app" }),
);
report.missingStream = await attempt(
  new PutLogEventsCommand({
    logGroupName: group,
    logStreamName: "missing",
    logEvents: [{ timestamp: now, message: "x" }],
  }),
);
report.duplicateGroup = await attempt(new CreateLogGroupCommand({ logGroupName: group }));
report.duplicateStream = await attempt(
  new CreateLogStreamCommand({ logGroupName: group, logStreamName: "app" }),
);
report.outOfOrder = await attempt(
  new PutLogEventsCommand({
    logGroupName: group,
    logStreamName: "app",
    logEvents: [
      { timestamp: now + 10, message: "later" },
      { timestamp: now + 5, message: "earlier" },
    ],
  }),
);

const badKeyClient = new CloudWatchLogsClient({
  endpoint,
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: "not-the-right-secret",
  },
});
try {
  await badKeyClient.send(new DescribeLogGroupsCommand({}));
  report.badSignature = { ok: true };
} catch (err) {
  report.badSignature = { ok: false, name: err.name, httpStatus: err.$metadata?.httpStatusCode };
}

report.deleteGroup = await attempt(new DeleteLogGroupCommand({ logGroupName: group }));
report.afterDelete = await attempt(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
