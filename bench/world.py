"""World: events/s that ``logsieve simulate world`` gets accepted by a local server, per source.

A fresh server (its default VPC and interfaces) is set up through the API as a user would: two
flow logs on the default VPC, traffic type ALL (one in the default format, one in a custom v5
format), a log group with a trail logging to it, and a Client VPN endpoint logging its
connections, associated with a default subnet so users connect. Then
``World`` runs for ``--duration`` seconds asked for ``--rate`` events/s per flow log and
``--trail-rate`` per trail; events/s are what the server accepted (PutLogEvents answered)
divided by the run's wall time. Target (issue 14): >= 20,000 events/s in total.
Progress to stderr, the report (Markdown) to stdout.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import ACCESS_KEY, SECRET_KEY, Server, client  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.shipping.client import Target  # noqa: E402
from logsieve.simulate.world import World  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/deliver"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/bench"
CUSTOM = "${version} ${vpc-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction}"  # noqa: E501


def set_up(server: Server) -> None:
    """Two flow logs, a logging trail and a logging Client VPN endpoint, through the API."""
    ec2, logs = client(server, "ec2"), client(server, "logs")
    trails = client(server, "cloudtrail")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    for group, log_format in (("/bench/flows-default", None), ("/bench/flows-v5", CUSTOM)):
        extra = {"LogFormat": log_format} if log_format else {}
        ec2.create_flow_logs(
            ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="ALL",
            LogGroupName=group, DeliverLogsPermissionArn=ROLE, **extra,
        )  # fmt: skip
    logs.create_log_group(logGroupName="bench-trail")
    trails.create_trail(
        Name="bench", S3BucketName="bucket", CloudWatchLogsRoleArn=ROLE,
        CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:bench-trail:*",
    )  # fmt: skip
    trails.start_logging(Name="bench")
    logs.create_log_group(logGroupName="/bench/clientvpn")
    endpoint = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.100.0.0/22", ServerCertificateArn=CERT,
        AuthenticationOptions=[{"Type": "certificate-authentication",
                                "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}],
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "/bench/clientvpn"},
    )["ClientVpnEndpointId"]  # fmt: skip
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint, SubnetId=subnet["Subnets"][0]["SubnetId"]
    )


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000.0, help="per flow log")
    parser.add_argument("--trail-rate", type=float, default=5_000.0, help="per trail")
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data").start()
        try:
            set_up(server)
            progress(f"running the world for {args.duration:.0f} s")
            target = Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY)
            world = World(target, rate=args.rate, trail_rate=args.trail_rate, seed=1,
                          connect_every=1.0, refresh=5.0, session_seconds=3.0)  # fmt: skip
            started, cpu = time.monotonic(), _cpu(resource.RUSAGE_SELF)
            summary = world.run(args.duration)
            elapsed = time.monotonic() - started
            client_cpu = _cpu(resource.RUSAGE_SELF) - cpu
        finally:
            server.stop()
        server_cpu = _cpu(resource.RUSAGE_CHILDREN)  # the whole server life, setup included
    asked = 2 * args.rate + args.trail_rate
    print(f"## World (`bench/world.py`), {time.strftime('%Y-%m-%d')}\n")
    print(f"Commit `{git_commit()}`, {cpu_model()}; asked {asked:,.0f} events/s "
          f"({args.rate:,.0f} per flow log x 2, {args.trail_rate:,.0f} for the trail), "
          f"{args.duration:.0f} s.\n")  # fmt: skip
    print("| source | events | events/s |\n|---|---:|---:|")
    total = 0
    for name, counts in (("flow log", summary.flow_events), ("trail", summary.trail_events)):
        for key, sent in sorted(counts.items()):
            total += sent
            print(f"| {name} `{key.rsplit('/', 1)[-1]}` | {sent:,} | {sent / elapsed:,.0f} |")
    print(f"| **total** | {total:,} | **{total / elapsed:,.0f}** |")
    print(f"\nCPU: the world (client) {client_cpu:.1f} s = {client_cpu / total * 1e6:.0f} µs per "
          f"event; the server {server_cpu:.1f} s (its whole life) = "
          f"{server_cpu / total * 1e6:.0f} µs per event; on the way, {summary.attempts} "
          f"Client VPN connection attempts ({summary.allowed} allowed, {summary.disconnects} "
          f"ended) on the associated endpoint.")  # fmt: skip


if __name__ == "__main__":
    main()
