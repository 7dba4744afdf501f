"""Two nodes making the account's EC2 defaults at the same moment, on every engine: both
succeed and there is one default VPC (the loser adopts the winner's plan)."""

from __future__ import annotations

import threading

from logsieve.ec2.network import Network
from logsieve.ec2.resources import Resources
from logsieve.storage.factory import Stores


def test_two_nodes_ensuring_the_defaults_at_once_make_one_default_vpc(stores: Stores) -> None:
    nodes = [stores.ec2(), stores.ec2()]  # one store each, as two processes have
    try:
        networks = [Network(Resources(store), "us-east-1", "123456789012") for store in nodes]
        barrier = threading.Barrier(2)
        failures: list[BaseException] = []

        def start(network: Network) -> None:
            barrier.wait()
            try:
                network.ensure_defaults()
            except BaseException as failure:  # what made a node crash at start-up
                failures.append(failure)

        threads = [threading.Thread(target=start, args=(n,)) for n in networks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == []
        for network in networks:
            vpcs = network.resources.all("vpc")
            assert [row.data["CidrBlock"] for row in vpcs] == ["172.31.0.0/16"]
            subnets = network.resources.all("subnet")
            assert sorted(row.data["CidrBlock"] for row in subnets) == [
                "172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20",
            ]  # fmt: skip
            assert {row.data["VpcId"] for row in subnets} == {vpcs[0].id}
            assert len(network.resources.all("network-interface")) == 3
        networks[0].ensure_defaults()  # finished: a later start makes nothing more
        assert len(networks[1].resources.all("vpc")) == 1
    finally:
        for store in nodes:
            store.close()
