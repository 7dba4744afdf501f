"""Issue 11 item 6 (SNS part): deleting topics, concurrently and with work still queued.

AWS's DeleteTopic is idempotent: "Deleting a topic that doesn't exist does not result in an
error" (API reference), so eight concurrent deletes of one topic all succeed, and the topic is
gone. A topic re-created under the same name is a new topic: it has none of the old one's
subscriptions, and messages published to the old one (still queued for fan-out or delivery)
never reach the new one's subscribers.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from logsieve.notify.outbox import Outbox
from logsieve.notify.sns_delivery import EmailSettings, SnsDeliveries
from logsieve.sns import SnsService
from logsieve.sns.signing import Signer
from logsieve.storage.topics_sqlite import SqliteTopicStore
from tests.notify.conftest import running
from tests.receivers import HttpReceiver
from tests.sns.helpers import ACCOUNT, REGION
from tests.waiting import wait_for


def test_concurrent_deletes_of_one_topic_all_succeed_as_on_aws(sns, receiver: HttpReceiver) -> None:
    name = f"del-{uuid.uuid4().hex[:8]}"
    for _round in range(10):
        arn = sns.create_topic(Name=name)["TopicArn"]
        start = threading.Barrier(8)

        def delete(arn: str, start: threading.Barrier = start) -> int:
            start.wait(30)
            return sns.delete_topic(TopicArn=arn)["ResponseMetadata"]["HTTPStatusCode"]

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(delete, [arn] * 8)) == [200] * 8
        assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
        with pytest.raises(ClientError) as caught:
            sns.get_topic_attributes(TopicArn=arn)
        assert caught.value.response["Error"]["Code"] == "NotFound"


def test_a_recreated_topic_has_none_of_the_old_ones_subscriptions(
    sns, receiver: HttpReceiver
) -> None:
    name = f"again-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(Name=name)["TopicArn"]
    old = sns.subscribe(
        TopicArn=arn, Protocol="http", Endpoint=f"{receiver.url}/{name}",
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]  # fmt: skip
    sns.delete_topic(TopicArn=arn)
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsPending"]) == ("0", "0")
    with pytest.raises(ClientError) as caught:
        sns.get_subscription_attributes(SubscriptionArn=old)
    assert caught.value.response["Error"]["Code"] == "NotFound"


def test_messages_of_a_deleted_topic_never_reach_a_recreated_topics_subscribers(
    tmp_path: Path,
) -> None:
    store = SqliteTopicStore(tmp_path / "sns.db")
    outbox = Outbox(tmp_path / "outbox.db")
    deliveries = SnsDeliveries(
        store, outbox, Signer(tmp_path / "keys"), "http://127.0.0.1:1",
        EmailSettings(None, "a@example.com"),
    )  # fmt: skip
    deliveries.register()
    service = SnsService(store, REGION, ACCOUNT, deliveries, auto_confirm=True)
    with HttpReceiver() as receiver:
        endpoint = f"{receiver.url}/same-endpoint"
        arn = service.create_topic({"Name": "reborn"})["TopicArn"]
        service.subscribe({"TopicArn": arn, "Protocol": "http", "Endpoint": endpoint})
        # Published while nothing is being sent (as if the outbox were behind), then deleted.
        service.publish({"TopicArn": arn, "Message": "to the old topic"})
        service.delete_topic({"TopicArn": arn})
        assert service.create_topic({"Name": "reborn"})["TopicArn"] == arn
        service.subscribe({"TopicArn": arn, "Protocol": "http", "Endpoint": endpoint})
        service.publish({"TopicArn": arn, "Message": "to the new topic"})
        with running(outbox):
            wait_for(lambda: receiver.requests(), what="the new topic's message")
            # Anything else queued has been dealt with (sent or dropped) once nothing is pending.
            wait_for(
                lambda: all(row["pending"] == 0 for row in outbox.status()),
                what="the outbox to drain",
            )
        assert [r.json()["Message"] for r in receiver.requests()] == ["to the new topic"]
    deliveries.close()
    outbox.close()
    store.close()
