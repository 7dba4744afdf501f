"""Every SNS operation and its errors through boto3 against the real server."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.sns.helpers import ACCOUNT, REGION, function_arn

TOPIC_ARN = re.compile(rf"arn:aws:sns:{REGION}:{ACCOUNT}:[\w-]+")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# -- topics --------------------------------------------------------------------------------


def test_create_topic_is_idempotent_by_name(sns) -> None:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    first = sns.create_topic(Name=name)["TopicArn"]
    assert first == f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == first
    listed = [
        t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]
    ]
    assert listed.count(first) == 1


def test_create_topic_with_attributes_and_tags(sns) -> None:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(
        Name=name,
        Attributes={"DisplayName": "Ops alerts"},
        Tags=[{"Key": "team", "Value": "ops"}],
    )["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Ops alerts"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]
    # Same name, same settings: the same topic. Different settings: an error, as on AWS.
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Ops alerts"})["TopicArn"] == arn
    assert error(sns.create_topic, Name=name, Attributes={"DisplayName": "Other"}) == (
        "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        400,
    )
    assert error(sns.create_topic, Name=name, Tags=[{"Key": "team", "Value": "dev"}]) == (
        "InvalidParameter",
        "Invalid parameter: Tags Reason: Topic already exists with different tags",
        400,
    )


@pytest.mark.parametrize("name", ["has space", "dot.name", "x" * 257, "ünïcode"])
def test_create_topic_rejects_bad_names(sns, name: str) -> None:
    assert error(sns.create_topic, Name=name) == (
        "InvalidParameter",
        "Invalid parameter: Topic Name",
        400,
    )


def test_fifo_topic_names(sns) -> None:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    assert error(sns.create_topic, Name=name, Attributes={"FifoTopic": "true"})[1] == (
        "Invalid parameter: Topic Name"
    )
    arn = sns.create_topic(Name=f"{name}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert error(sns.publish, TopicArn=arn, Message="m")[1] == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    )
    done = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d")
    assert re.fullmatch(r"\d{20}", done["SequenceNumber"])


def test_list_topics_pages_of_100(sns) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    created = {sns.create_topic(Name=f"{prefix}{i}")["TopicArn"] for i in range(101)}
    pages = list(sns.get_paginator("list_topics").paginate())
    assert all(len(page["Topics"]) <= 100 for page in pages)
    assert len(pages[0]["Topics"]) == 100 and "NextToken" in pages[0]
    assert "NextToken" not in pages[-1]
    listed = [t["TopicArn"] for page in pages for t in page["Topics"]]
    assert len(listed) == len(set(listed))
    assert created <= set(listed)
    assert error(sns.list_topics, NextToken="garbage!") == (
        "InvalidParameter",
        "Invalid parameter: NextToken",
        400,
    )


def test_get_topic_attributes(sns, topic) -> None:
    arn = topic()
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert set(attributes) == {
        "Policy", "Owner", "SubscriptionsPending", "TopicArn", "EffectiveDeliveryPolicy",
        "SubscriptionsConfirmed", "DisplayName", "SubscriptionsDeleted",
    }  # fmt: skip
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == ACCOUNT
    assert attributes["DisplayName"] == ""
    assert (
        attributes["SubscriptionsConfirmed"]
        == attributes["SubscriptionsPending"]
        == attributes["SubscriptionsDeleted"]
        == "0"
    )
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    assert "SNS:Publish" in policy["Statement"][0]["Action"]
    delivery = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert delivery["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3


def test_subscription_counters(sns, topic, address) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    confirmed = sns.subscribe(
        TopicArn=arn, Protocol="lambda", Endpoint=function_arn("sns-recorder")
    )["SubscriptionArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["SubscriptionsPending"], attributes["SubscriptionsConfirmed"]) == ("1", "1")
    sns.unsubscribe(SubscriptionArn=confirmed)
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert attributes["SubscriptionsDeleted"] == "1"


def test_set_topic_attributes(sns, topic) -> None:
    arn = topic()
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Pager")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Pager"
    assert error(
        sns.set_topic_attributes, TopicArn=arn, AttributeName="Color", AttributeValue="red"
    ) == ("InvalidParameter", "Invalid parameter: AttributeName", 400)
    assert error(
        sns.set_topic_attributes, TopicArn=arn, AttributeName="FifoTopic", AttributeValue="true"
    )[1] == ("Invalid parameter: AttributeName")


def test_topic_lookup_errors(sns) -> None:
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-{uuid.uuid4().hex[:6]}"
    assert error(sns.get_topic_attributes, TopicArn=missing) == (
        "NotFound",
        "Topic does not exist",
        404,
    )
    assert error(sns.get_topic_attributes, TopicArn="not-an-arn") == (
        "InvalidParameter",
        "Invalid parameter: TopicArn",
        400,
    )
    other_region = f"arn:aws:sns:eu-west-1:{ACCOUNT}:x"
    assert error(sns.get_topic_attributes, TopicArn=other_region)[0] == "InvalidParameter"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=missing, Message="hello")


def test_delete_topic(sns, topic, address) -> None:
    arn = topic()
    sub = sns.subscribe(
        TopicArn=arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting again succeeds, as on AWS
    listed = [
        t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]
    ]
    assert arn not in listed
    assert error(sns.get_subscription_attributes, SubscriptionArn=sub)[:2] == (
        "NotFound",
        "Subscription does not exist",
    )


def test_tags(sns, topic) -> None:
    arn = topic()
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:nope-{uuid.uuid4().hex[:6]}"
    assert error(sns.list_tags_for_resource, ResourceArn=missing) == (
        "ResourceNotFound",
        "Resource does not exist",
        404,
    )
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error(sns.tag_resource, ResourceArn=arn, Tags=too_many)[0] == "TagLimitExceeded"


# -- subscriptions -------------------------------------------------------------------------


def test_subscribe_email_is_pending(sns, topic, address) -> None:
    arn = topic()
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)["SubscriptionArn"] == (
        "pending confirmation"
    )
    sub = sns.subscribe(
        TopicArn=arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    assert re.fullmatch(rf"{re.escape(arn)}:{UUID}", sub)
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert listed == [
        {
            "SubscriptionArn": "PendingConfirmation",
            "Owner": ACCOUNT,
            "Protocol": "email",
            "Endpoint": address,
            "TopicArn": arn,
        }
    ]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"
    assert attributes["Protocol"] == "email"
    assert attributes["Endpoint"] == address
    assert attributes["TopicArn"] == arn
    assert attributes["SubscriptionArn"] == sub
    assert attributes["Owner"] == ACCOUNT


def test_subscribe_lambda_is_confirmed_at_once(sns, topic) -> None:
    arn = topic()
    endpoint = function_arn("sns-recorder")
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=endpoint)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    # Subscribing the same endpoint again returns the same subscription.
    again = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=endpoint)["SubscriptionArn"]
    assert again == sub
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    listed = [
        s for p in sns.get_paginator("list_subscriptions").paginate() for s in p["Subscriptions"]
    ]
    assert {"SubscriptionArn": sub, "Owner": ACCOUNT, "Protocol": "lambda",
            "Endpoint": endpoint, "TopicArn": arn} in listed  # fmt: skip


@pytest.mark.parametrize(
    ("protocol", "endpoint", "message"),
    [
        ("carrier-pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol "
         "string: carrier-pigeon"),
        ("email", "not-an-address", "Invalid parameter: Email address"),
        ("email-json", "a@b", "Invalid parameter: Email address"),
        ("http", "https://example.com/hook", "Invalid parameter: Endpoint must match the "
         "specified protocol"),
        ("https", "ftp://example.com", "Invalid parameter: Endpoint must match the specified "
         "protocol"),
        ("lambda", "my-function", "Invalid parameter: Lambda endpoint ARN"),
    ],
)  # fmt: skip
def test_subscribe_errors(sns, topic, protocol: str, endpoint: str, message: str) -> None:
    arn = topic()
    assert error(sns.subscribe, TopicArn=arn, Protocol=protocol, Endpoint=endpoint) == (
        "InvalidParameter",
        message,
        400,
    )


def test_subscribe_to_missing_topic(sns) -> None:
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:nope-{uuid.uuid4().hex[:6]}"
    assert error(sns.subscribe, TopicArn=missing, Protocol="email", Endpoint="a@example.com") == (
        "NotFound",
        "Topic does not exist",
        404,
    )


def test_subscription_attributes(sns, topic) -> None:
    arn = topic()
    sub = sns.subscribe(
        TopicArn=arn,
        Protocol="lambda",
        Endpoint=function_arn("sns-recorder"),
        Attributes={"FilterPolicy": json.dumps({"severity": ["high"]})},
    )["SubscriptionArn"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["high"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    assert (
        sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["FilterPolicyScope"]
        == "MessageBody"
    )
    assert error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue="{nope",
    ) == ("InvalidParameter", "Invalid parameter: FilterPolicy: failed to parse JSON.", 400)
    assert error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="Colour",
        AttributeValue="x",
    ) == ("InvalidParameter", "Invalid parameter: AttributeName", 400)
    assert (
        error(
            sns.subscribe,
            TopicArn=arn,
            Protocol="email",
            Endpoint="x@example.com",
            Attributes={"FilterPolicy": "{nope"},
        )[1]
        == "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."
    )


def test_unsubscribe(sns, topic) -> None:
    arn = topic()
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=function_arn("sns-recorder"))[
        "SubscriptionArn"
    ]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # idempotent
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    assert error(sns.unsubscribe, SubscriptionArn="pending confirmation") == (
        "InvalidParameter",
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1",
        400,
    )


def test_confirm_subscription_with_a_bad_token(sns, topic, address) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    assert error(sns.confirm_subscription, TopicArn=arn, Token="0" * 64) == (
        "InvalidParameter",
        "Invalid parameter: Token",
        400,
    )


# -- publish -------------------------------------------------------------------------------


def test_publish_returns_a_message_id(sns, topic) -> None:
    arn = topic()
    result = sns.publish(TopicArn=arn, Message="hello", Subject="Greeting")
    assert re.fullmatch(UUID, result["MessageId"])
    assert "SequenceNumber" not in result
    assert re.fullmatch(UUID, sns.publish(TargetArn=arn, Message="via TargetArn")["MessageId"])


def test_subject_limits(sns, topic) -> None:
    arn = topic()
    assert sns.publish(TopicArn=arn, Message="m", Subject="s" * 100)["MessageId"]
    assert sns.publish(TopicArn=arn, Message="m", Subject="日" * 100)["MessageId"]
    for subject in ("s" * 101, "", "line\nbreak", "tab\there", "bell\x07"):
        assert error(sns.publish, TopicArn=arn, Message="m", Subject=subject) == (
            "InvalidParameter",
            "Invalid parameter: Subject",
            400,
        ), subject


def test_message_size_limit(sns, topic) -> None:
    arn = topic()
    assert sns.publish(TopicArn=arn, Message="x" * 262_144)["MessageId"]
    assert sns.publish(TopicArn=arn, Message="é" * 131_072)["MessageId"]  # 2 bytes each
    assert error(sns.publish, TopicArn=arn, Message="x" * 262_145) == (
        "InvalidParameter",
        "Invalid parameter: Message too long",
        400,
    )
    # Attribute names, types and values count against the same limit.
    attributes = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 bytes
    assert sns.publish(TopicArn=arn, Message="x" * (262_144 - 8), MessageAttributes=attributes)
    assert error(
        sns.publish, TopicArn=arn, Message="x" * (262_144 - 7), MessageAttributes=attributes
    )[1] == ("Invalid parameter: Message too long")
    assert error(sns.publish, TopicArn=arn, Message="")[1] == "Invalid parameter: Empty message"


def test_message_structure(sns, topic) -> None:
    arn = topic()
    body = json.dumps({"default": "plain", "email": "for email", "lambda": {"ignored": True}})
    assert sns.publish(TopicArn=arn, Message=body, MessageStructure="json")["MessageId"]
    for message, reason in [
        ("not json", "Invalid parameter: Message Structure - JSON message body failed to parse"),
        ('["a"]', "Invalid parameter: Message Structure - JSON message body failed to parse"),
        ('{"email": "x"}', "Invalid parameter: Message Structure - No default entry in JSON "
         "message body"),
        ('{"default": 5}', "Invalid parameter: Message Structure - No default entry in JSON "
         "message body"),
    ]:  # fmt: skip
        assert error(sns.publish, TopicArn=arn, Message=message, MessageStructure="json") == (
            "InvalidParameter",
            reason,
            400,
        )


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"a": {"DataType": "Text", "StringValue": "x"}},
         "The message attribute 'a' has an invalid message attribute type, the set of supported "
         "type prefixes is Binary, Number, and String."),
        ({"a": {"DataType": "String"}},
         "The message attribute 'a' must contain non-empty message attribute value for message "
         "attribute type 'String'."),
        ({"a": {"DataType": "Binary", "StringValue": "x"}},
         "The message attribute 'a' with type 'Binary' must use field 'Binary'."),
        ({"a": {"DataType": "Number", "StringValue": "seven"}},
         "Could not cast message attribute 'a' value to number."),
        ({".a": {"DataType": "String", "StringValue": "x"}},
         "Invalid message attribute name starting with character '.' was found."),
        ({"a..b": {"DataType": "String", "StringValue": "x"}},
         "Message attribute name can not have successive '.' character."),
        ({"a b": {"DataType": "String", "StringValue": "x"}},
         "Invalid non-alphanumeric character '#x20' was found in the message attribute name. "
         "Can only include alphanumeric characters, hyphens, underscores, or dots."),
        ({f"k{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)},
         "Number of message attributes [11] exceeds the allowed maximum [10]."),
    ],
)  # fmt: skip
def test_message_attribute_rules(sns, topic, attributes: dict[str, Any], message: str) -> None:
    arn = topic()
    assert error(sns.publish, TopicArn=arn, Message="m", MessageAttributes=attributes) == (
        "ParameterValueInvalid",
        message,
        400,
    )


def test_message_attributes_accepted(sns, topic) -> None:
    arn = topic()
    attributes = {
        "severity": {"DataType": "String", "StringValue": "high"},
        "port": {"DataType": "Number", "StringValue": "23"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "tags": {"DataType": "String.Array", "StringValue": '["a","b"]'},
        "custom": {"DataType": "String.custom", "StringValue": "x"},
    }
    assert sns.publish(TopicArn=arn, Message="m", MessageAttributes=attributes)["MessageId"]


def test_publish_target_errors(sns, topic) -> None:
    arn = topic()
    assert error(sns.publish, Message="m") == (
        "InvalidParameter",
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
        400,
    )
    assert error(sns.publish, TopicArn="garbage", Message="m")[1] == "Invalid parameter: TopicArn"
    assert error(sns.publish, TopicArn=arn, Message="m", MessageDeduplicationId="d")[1] == (
        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
        "MessageDeduplicationId parameter that is not valid for this topic type"
    )


def test_publish_batch(sns, topic) -> None:
    arn = topic()
    result = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first", "Subject": "1"},
            {"Id": "two", "Message": "second"},
        ],
    )
    assert [entry["Id"] for entry in result["Successful"]] == ["one", "two"]
    assert all(re.fullmatch(UUID, entry["MessageId"]) for entry in result["Successful"])
    assert result["Failed"] == []
    same = [{"Id": "x", "Message": "a"}, {"Id": "x", "Message": "b"}]
    assert error(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=same)[:2] == (
        "BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.",
    )
    eleven = [{"Id": f"m{i}", "Message": "a"} for i in range(11)]
    assert error(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=eleven)[0] == (
        "TooManyEntriesInBatchRequest"
    )
    big = [{"Id": f"m{i}", "Message": "x" * 100_000} for i in range(3)]
    assert error(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=big)[:2] == (
        "BatchRequestTooLong",
        "The length of all the messages put together is more than the limit.",
    )
    bad_id = [{"Id": "no spaces", "Message": "a"}]
    assert error(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=bad_id)[0] == (
        "InvalidBatchEntryId"
    )


# -- the wire ------------------------------------------------------------------------------


def test_unsigned_and_badly_signed_requests(sns_server: Server) -> None:
    response = httpx.post(
        sns_server.url,
        content="Action=ListTopics&Version=2010-03-31",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text
    assert response.headers["content-type"] == "text/xml"

    wrong = boto3.client(
        "sns",
        endpoint_url=sns_server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"max_attempts": 0}),
    )
    assert error(wrong.list_topics)[::2] == ("SignatureDoesNotMatch", 403)
    stranger = boto3.client(
        "sns",
        endpoint_url=sns_server.url,
        region_name=REGION,
        aws_access_key_id="AKIAUNKNOWNKEY000000",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}),
    )
    assert error(stranger.list_topics)[::2] == ("InvalidClientTokenId", 403)


def test_json_services_still_answer_beside_sns(sns_server: Server) -> None:
    logs = client(sns_server, "logs")
    group = f"/sns/neighbour-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupName"] == (
        group
    )


def test_raw_xml_response(sns_server: Server, topic) -> None:
    """The exact document a hand-written client would parse."""
    arn = topic()
    body = f"Action=Publish&Version=2010-03-31&TopicArn={arn}&Message=hi"
    aws_request = AWSRequest(
        "POST",
        sns_server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "sns", REGION).add_auth(aws_request)
    response = httpx.post(aws_request.url, content=body, headers=dict(aws_request.headers))
    assert response.status_code == 200
    assert re.fullmatch(
        r'<PublishResponse xmlns="http://sns\.amazonaws\.com/doc/2010-03-31/">\s*'
        rf"<PublishResult>\s*<MessageId>{UUID}</MessageId>\s*</PublishResult>\s*"
        rf"<ResponseMetadata>\s*<RequestId>{UUID}</RequestId>\s*</ResponseMetadata>\s*"
        r"</PublishResponse>\s*",
        response.text,
    ), response.text
    assert response.headers["x-amzn-requestid"] in response.text
