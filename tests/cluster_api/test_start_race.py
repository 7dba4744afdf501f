"""Nodes of a new deployment may start at once: whichever creates the namespace's defaults
first wins, the others adopt what it made and come up too (no "start the first node alone")."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tests.cluster_api.harness import ApiCluster
from tests.server import Server


def _start_at_once(cluster: ApiCluster, count: int) -> None:
    """Start ``count`` more logsieve nodes together (each its own data directory)."""
    servers = []
    for index in range(len(cluster.nodes) + 1, len(cluster.nodes) + count + 1):
        directory = cluster.root / f"logsieve{index}"
        directory.mkdir(parents=True, exist_ok=True)
        servers.append(
            Server(
                directory / "data",
                config=cluster.config_file,
                env={"HOME": str(directory)},
                log_file=directory / "serve.log",
            )
        )
    cluster.nodes.extend(servers)  # stopped by the fixture whatever happens
    with ThreadPoolExecutor(count) as pool:
        for started in [pool.submit(server.start, 90) for server in servers]:
            started.result()


def test_nodes_started_at_once_on_a_fresh_namespace_all_come_up_with_one_default_vpc(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    cluster = own_deployment(logsieve_nodes=0)
    _start_at_once(cluster, 3)  # three at once once met "stream not found" and gave up
    for index in range(3):
        ec2 = cluster.client(index, "ec2")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        assert [v["CidrBlock"] for v in vpcs] == ["172.31.0.0/16"], f"node {index + 1}"
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])[
            "Subnets"
        ]
        assert sorted(s["CidrBlock"] for s in subnets) == [
            "172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20",
        ], f"node {index + 1}"  # fmt: skip
        interfaces = ec2.describe_network_interfaces()["NetworkInterfaces"]
        assert len(interfaces) == 3, f"node {index + 1}"
