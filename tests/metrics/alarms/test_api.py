"""The alarm operations through boto3 on the real server: shapes as AWS returns them, state and
history, filters and paging, tags, and AWS's errors for bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.metrics.alarms.conftest import error_code


def put(cloudwatch: Any, name: str, **overrides: Any) -> None:
    params = {
        "AlarmName": name, "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 2, "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    params.update(overrides)
    cloudwatch.put_metric_alarm(**{k: v for k, v in params.items() if v is not None})


def only(cloudwatch: Any, name: str) -> dict[str, Any]:
    alarms = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert len(alarms) == 1
    return alarms[0]


def test_a_new_alarm_is_described_as_aws_describes_it(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name, Dimensions=[{"Name": "Service", "Value": "api"}], DatapointsToAlarm=1)
    answer = cloudwatch.describe_alarms(AlarmNames=[name])
    assert answer["CompositeAlarms"] == []
    alarm = answer["MetricAlarms"][0]
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}" or (
        alarm["AlarmArn"].startswith("arn:aws:cloudwatch:us-east-1:")
        and alarm["AlarmArn"].endswith(f":alarm:{name}")
    )
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert "StateReasonData" not in alarm
    assert alarm["ActionsEnabled"] is True
    assert alarm["OKActions"] == alarm["AlarmActions"] == alarm["InsufficientDataActions"] == []
    assert alarm["Dimensions"] == [{"Name": "Service", "Value": "api"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 2)
    assert (alarm["DatapointsToAlarm"], alarm["Threshold"]) == (1, 5.0)
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"]


def test_an_update_overwrites_the_configuration_and_keeps_the_state(
    cloudwatch: Any, name: str
) -> None:
    put(cloudwatch, name, AlarmDescription="first", DatapointsToAlarm=1)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand")
    put(cloudwatch, name, Threshold=9.0)
    alarm = only(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReason"], alarm["Threshold"]) == (
        "ALARM",
        "by hand",
        9.0,
    )
    assert "AlarmDescription" not in alarm and "DatapointsToAlarm" not in alarm
    kinds = [
        json.loads(item["HistoryData"]).get("type")
        for item in cloudwatch.describe_alarm_history(
            AlarmName=name, HistoryItemType="ConfigurationUpdate"
        )["AlarmHistoryItems"]
    ]
    assert kinds == ["Update", "Create"]


def test_set_alarm_state_records_a_state_update(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name)
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="testing", StateReasonData='{"a":1}'
    )
    alarm = only(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReasonData"]) == ("ALARM", '{"a":1}')
    items = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    (item,) = items["AlarmHistoryItems"]
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert item["AlarmType"] == "MetricAlarm"
    data = json.loads(item["HistoryData"])
    assert data["oldState"] == {
        "stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation",
    }  # fmt: skip
    assert data["newState"] == {
        "stateValue": "ALARM", "stateReason": "testing", "stateReasonData": {"a": 1},
    }  # fmt: skip


def test_set_alarm_state_errors(cloudwatch: Any, name: str) -> None:
    with pytest.raises(ClientError) as caught:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x")
    assert error_code(caught.value) == "ResourceNotFound"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    put(cloudwatch, name)
    with pytest.raises(ClientError) as caught:
        cloudwatch.set_alarm_state(
            AlarmName=name, StateValue="OK", StateReason="x", StateReasonData="{not json"
        )
    assert error_code(caught.value) == "InvalidFormat"


def test_filters_and_paging(cloudwatch: Any, name: str) -> None:
    for suffix in "abcde":
        put(cloudwatch, f"{name}-{suffix}", AlarmActions=[f"arn:aws:sns:us-east-1:1:{suffix}"])
    cloudwatch.set_alarm_state(AlarmName=f"{name}-c", StateValue="OK", StateReason="x")
    seen, token = [], None
    while True:
        page = cloudwatch.describe_alarms(
            AlarmNamePrefix=name, MaxRecords=2, **({"NextToken": token} if token else {})
        )
        seen += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [f"{name}-{s}" for s in "abcde"]
    by_state = cloudwatch.describe_alarms(AlarmNamePrefix=name, StateValue="OK")
    assert [a["AlarmName"] for a in by_state["MetricAlarms"]] == [f"{name}-c"]
    by_action = cloudwatch.describe_alarms(
        AlarmNamePrefix=name, ActionPrefix="arn:aws:sns:us-east-1:1:d"
    )
    assert [a["AlarmName"] for a in by_action["MetricAlarms"]] == [f"{name}-d"]
    composite = cloudwatch.describe_alarms(AlarmNamePrefix=name, AlarmTypes=["CompositeAlarm"])
    assert composite["MetricAlarms"] == []
    with pytest.raises(ClientError) as caught:
        cloudwatch.describe_alarms(AlarmNames=[name], AlarmNamePrefix=name)
    assert error_code(caught.value) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as caught:
        cloudwatch.describe_alarms(NextToken="garbage")
    assert error_code(caught.value) == "InvalidNextToken"


def test_alarms_for_a_metric(cloudwatch: Any, name: str) -> None:
    dims = [{"Name": "Queue", "Value": name}]
    put(cloudwatch, f"{name}-sum", Namespace="Q", MetricName="Depth", Dimensions=dims)
    put(cloudwatch, f"{name}-max", Namespace="Q", MetricName="Depth", Dimensions=dims,
        Statistic="Maximum")  # fmt: skip
    put(cloudwatch, f"{name}-other", Namespace="Q", MetricName="Depth")
    found = cloudwatch.describe_alarms_for_metric(
        Namespace="Q", MetricName="Depth", Dimensions=dims
    )
    assert sorted(a["AlarmName"] for a in found["MetricAlarms"]) == [f"{name}-max", f"{name}-sum"]
    found = cloudwatch.describe_alarms_for_metric(
        Namespace="Q", MetricName="Depth", Dimensions=dims, Statistic="Maximum"
    )
    assert [a["AlarmName"] for a in found["MetricAlarms"]] == [f"{name}-max"]


def test_delete_keeps_history_and_ignores_unknown_names(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name)
    cloudwatch.delete_alarms(AlarmNames=[name, f"{name}-never"])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    items = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == [
        f'Alarm "{name}" deleted', f'Alarm "{name}" created',
    ]  # fmt: skip


def test_history_pages_oldest_first_when_asked(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name)
    for state in ("OK", "ALARM", "OK"):
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=state)
    first = cloudwatch.describe_alarm_history(
        AlarmName=name, ScanBy="TimestampAscending", MaxRecords=2
    )
    rest = cloudwatch.describe_alarm_history(
        AlarmName=name, ScanBy="TimestampAscending", NextToken=first["NextToken"]
    )
    summaries = [
        i["HistorySummary"] for i in first["AlarmHistoryItems"] + rest["AlarmHistoryItems"]
    ]
    assert summaries == [
        f'Alarm "{name}" created',
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert "NextToken" not in rest


def test_enable_and_disable_actions(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name)
    cloudwatch.disable_alarm_actions(AlarmNames=[name])
    assert only(cloudwatch, name)["ActionsEnabled"] is False
    cloudwatch.enable_alarm_actions(AlarmNames=[name])
    assert only(cloudwatch, name)["ActionsEnabled"] is True


def test_tags(cloudwatch: Any, name: str) -> None:
    put(cloudwatch, name, Tags=[{"Key": "team", "Value": "a"}])
    arn = only(cloudwatch, name)["AlarmArn"]
    cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "env", "Value": "prod"}
    ]
    with pytest.raises(ClientError) as caught:
        cloudwatch.list_tags_for_resource(ResourceARN=arn + "-gone")
    assert error_code(caught.value) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"Period": 45}, "InvalidParameterValue", "Period must be 10, 20, 30 or a multiple of 60"),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination", "mutually exclusive"),
        ({"Statistic": None}, "MissingParameter", "Statistic"),
        ({"DatapointsToAlarm": 3}, "InvalidParameterValue", "DatapointsToAlarm"),
        ({"Period": 60, "EvaluationPeriods": 1441}, "InvalidParameterValue", "86400"),
        ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
         "InvalidParameterValue", "anomaly detection"),
        ({"AlarmActions": [f"arn:aws:sns:us-east-1:1:t{i}" for i in range(6)]},
         "ValidationError", "less than or equal to 5"),
    ],
)  # fmt: skip
def test_bad_alarms_get_aws_errors(
    cloudwatch: Any, name: str, overrides: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(ClientError) as caught:
        put(cloudwatch, name, **overrides)
    assert error_code(caught.value) == code
    assert words in caught.value.response["Error"]["Message"]
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
