"""The ``Ec2Store`` contract, for every engine: what the EC2 service relies on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.ec2 import Ec2Store, ResourceRow
from logsieve.storage.factory import Stores


@pytest.fixture
def store(stores: Stores) -> Iterator[Ec2Store]:
    opened = stores.ec2()
    yield opened
    opened.close()


def test_create_assigns_increasing_seq_and_refuses_a_second_id(store: Ec2Store) -> None:
    first = store.create(ResourceRow("vpc-1", "vpc", {"CidrBlock": "10.0.0.0/16"}, {"a": "b"}, 5))
    second = store.create(ResourceRow("vpc-2", "vpc"))
    assert 0 < first.seq < second.seq
    assert first.data == {"CidrBlock": "10.0.0.0/16"} and first.tags == {"a": "b"}
    with pytest.raises(ValueError):
        store.create(ResourceRow("vpc-1", "vpc"))
    assert store.get("vpc-1") == first
    assert store.get("vpc-9") is None


def test_list_pages_one_kind_in_creation_order(store: Ec2Store) -> None:
    for n in range(5):
        store.create(ResourceRow(f"subnet-{n}", "subnet"))
        store.create(ResourceRow(f"eni-{n}", "network-interface"))
    page = store.list("subnet", 0, 3)
    assert [row.id for row in page] == ["subnet-0", "subnet-1", "subnet-2"]
    rest = store.list("subnet", page[-1].seq, 3)
    assert [row.id for row in rest] == ["subnet-3", "subnet-4"]


def test_update_replaces_data_and_tags_and_delete_removes(store: Ec2Store) -> None:
    store.create(ResourceRow("fl-1", "flow-log", {"x": 1}, {"k": "v"}))
    updated = store.update("fl-1", tags={"z": "1", "a": "2"})
    assert updated is not None and updated.data == {"x": 1}
    assert list(updated.tags) == ["z", "a"]
    updated = store.update("fl-1", data={"x": 2})
    assert updated is not None and updated.data == {"x": 2} and updated.tags == {"z": "1", "a": "2"}
    assert store.update("fl-9", data={}) is None
    assert store.delete("fl-1") is True
    assert store.delete("fl-1") is False
    assert store.list("flow-log") == []


def test_resources_survive_reopening(stores: Stores) -> None:
    first = stores.ec2()
    first.create(ResourceRow("cvpn-endpoint-1", "client-vpn-endpoint", {"Status": {"Code": "x"}}))
    first.close()
    again = stores.ec2()
    try:
        row = again.get("cvpn-endpoint-1")
        assert row is not None and row.data == {"Status": {"Code": "x"}}
    finally:
        again.close()
