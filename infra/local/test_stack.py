#!/usr/bin/env python3
"""Checks of stack.py against a real moto server started for the run.

Run with the local virtualenv's interpreter (it has moto and boto3):

    .venv-local/bin/python infra/local/test_stack.py

Ends with a line "stack: N passed, N failed" and a non-zero exit on failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
STACK_PY = HERE / "stack.py"
TEMPLATE = HERE.parents[1] / "template.yaml"
MOTO_SERVER = HERE / "moto_server.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_stack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(STACK_PY), *args], capture_output=True, text=True, timeout=120
    )


class StackOnMoto(unittest.TestCase):
    endpoint: str
    moto: subprocess.Popen
    tmp: tempfile.TemporaryDirectory

    @classmethod
    def setUpClass(cls) -> None:
        port = free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.moto = subprocess.Popen(
            [sys.executable, str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{cls.endpoint}/moto-api/", timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline or cls.moto.poll() is not None:
                    cls.moto.kill()
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.descriptions = {}
        for name in ("alpha", "beta"):
            out = Path(cls.tmp.name) / f"{name}.json"
            result = run_stack("create", "--endpoint", cls.endpoint, "--stack-name", name, "--out", str(out))
            if result.returncode != 0:
                cls.tearDownClass()
                raise RuntimeError(f"create {name} failed: {result.stderr}")
            cls.descriptions[name] = json.loads(out.read_text())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.moto.terminate()
        try:
            cls.moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.moto.kill()
        cls.tmp.cleanup()

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def test_two_stacks_get_their_own_queues(self) -> None:
        a = self.descriptions["alpha"]["outputs"]["InboundQueueUrl"]
        b = self.descriptions["beta"]["outputs"]["InboundQueueUrl"]
        self.assertTrue(a.endswith("/alpha-inbound.fifo"), a)
        self.assertTrue(b.endswith("/beta-inbound.fifo"), b)

    def test_a_message_sent_to_the_inbound_queue_can_be_received(self) -> None:
        sqs = self.client("sqs")
        url = self.descriptions["alpha"]["outputs"]["InboundQueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hi", MessageGroupId="c1", MessageDeduplicationId="m1")
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        self.assertEqual([m["Body"] for m in got], ["hi"])

    def test_event_source_mappings_are_disabled(self) -> None:
        lam = self.client("lambda")
        states = [
            esm["State"]
            for fn in self.descriptions["alpha"]["functions"].values()
            for esm in lam.list_event_source_mappings(FunctionName=fn["function_name"])["EventSourceMappings"]
        ]
        # inbound and turns (bot), tickets, outbound (sender), media
        self.assertEqual(states, ["Disabled"] * 6)

    def test_the_queues_are_fifo_with_a_dead_letter_queue(self) -> None:
        sqs = self.client("sqs")
        outputs = self.descriptions["alpha"]["outputs"]
        for queue in ("Inbound", "Tickets", "Outbound", "Media"):
            attrs = sqs.get_queue_attributes(QueueUrl=outputs[f"{queue}QueueUrl"], AttributeNames=["All"])["Attributes"]
            self.assertEqual(attrs["FifoQueue"], "true")
            redrive = json.loads(attrs["RedrivePolicy"])
            self.assertEqual(redrive["maxReceiveCount"], 5)
            self.assertTrue(redrive["deadLetterTargetArn"].endswith(f"alpha-{queue.lower()}-dlq.fifo"))

    def test_the_turns_queue_is_standard_so_each_turn_can_carry_its_own_delay(self) -> None:
        # FIFO queues refuse a per-message DelaySeconds; the quiet period needs one.
        sqs = self.client("sqs")
        url = self.descriptions["alpha"]["outputs"]["TurnsQueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertNotIn("FifoQueue", attrs)
        redrive = json.loads(attrs["RedrivePolicy"])
        self.assertEqual(redrive["maxReceiveCount"], 5)
        self.assertTrue(redrive["deadLetterTargetArn"].endswith("alpha-turns-dlq"))
        sqs.send_message(QueueUrl=url, MessageBody="turn", DelaySeconds=1)

    def test_an_event_put_on_the_bus_is_accepted(self) -> None:
        events = self.client("events")
        answer = events.put_events(
            Entries=[
                {
                    "Source": "helpdesk.tickets",
                    "DetailType": "TicketEscalated",
                    "Detail": "{}",
                    "EventBusName": self.descriptions["alpha"]["outputs"]["EventBusName"],
                }
            ]
        )
        self.assertEqual(answer["FailedEntryCount"], 0)

    def test_the_table_has_its_indexes_and_ttl(self) -> None:
        ddb = self.client("dynamodb")
        name = self.descriptions["alpha"]["outputs"]["HelpdeskTableName"]
        table = ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(sorted(g["IndexName"] for g in table["GlobalSecondaryIndexes"]), [f"gsi{i}" for i in range(1, 9)])
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        self.assertEqual(ttl.get("AttributeName"), "expires_at")

    def test_each_function_is_described_with_its_binary_environment_and_events(self) -> None:
        functions = self.descriptions["alpha"]["functions"]
        self.assertEqual(
            {k: v["binary"] for k, v in functions.items()},
            {
                "WebhookFunction": "webhook",
                "BotFunction": "bot",
                "TicketsFunction": "tickets",
                "SenderFunction": "sender",
                "MediaFunction": "media",
                "AgentApiFunction": "agent-api",
                "NotifierFunction": "notifier",
                "SlaFunction": "sla",
                "ConsoleFunction": "console",
            },
        )
        outputs = self.descriptions["alpha"]["outputs"]
        self.assertEqual(functions["WebhookFunction"]["environment"]["INBOUND_QUEUE_URL"], outputs["InboundQueueUrl"])
        self.assertEqual(functions["TicketsFunction"]["environment"]["EVENT_BUS_NAME"], "alpha-helpdesk")
        self.assertEqual(functions["TicketsFunction"]["environment"]["OUTBOUND_QUEUE_URL"], outputs["OutboundQueueUrl"])
        http = [(e["method"], e["path"]) for e in functions["WebhookFunction"]["events"]]
        self.assertEqual(sorted(http), [("GET", "/webhook"), ("POST", "/webhook")])
        bot_sources = functions["BotFunction"]["events"]
        self.assertEqual(
            sorted(source["queue_url"] for source in bot_sources),
            sorted([outputs["InboundQueueUrl"], outputs["TurnsQueueUrl"]]),
        )
        for source in bot_sources:
            self.assertEqual(source["type"], "sqs")
            self.assertTrue(source["report_batch_item_failures"])

    def test_the_sla_sweep_is_the_one_function_on_a_schedule_every_minute(self) -> None:
        functions = self.descriptions["alpha"]["functions"]
        outputs = self.descriptions["alpha"]["outputs"]
        schedules = {
            logical: [e for e in fn["events"] if e["type"] == "schedule"]
            for logical, fn in functions.items()
            if any(e["type"] == "schedule" for e in fn["events"])
        }
        self.assertEqual(
            schedules,
            {"SlaFunction": [{"type": "schedule", "expression": "rate(1 minute)", "rate_seconds": 60}]},
        )
        env = functions["SlaFunction"]["environment"]
        self.assertEqual(env["TICKETS_QUEUE_URL"], outputs["TicketsQueueUrl"])
        self.assertEqual(env["HELPDESK_TABLE_NAME"], outputs["HelpdeskTableName"])

    def test_the_agent_api_serves_reports_behind_the_jwt_authorizer(self) -> None:
        events = self.descriptions["alpha"]["functions"]["AgentApiFunction"]["events"]
        self.assertIn(
            {"type": "http", "method": "GET", "path": "/api/reports/{report}", "authorizer": "default"}, events
        )

    def test_the_console_is_served_without_the_jwt_authorizer_and_names_no_cognito_resource_locally(self) -> None:
        description = self.descriptions["alpha"]
        console = description["functions"]["ConsoleFunction"]
        self.assertEqual(
            sorted((e["method"], e["path"], e["authorizer"]) for e in console["events"]),
            [("GET", "/console", None), ("GET", "/console/{proxy+}", None)],
        )
        # The runner gives the local sign-in, media origin and console URL instead.
        self.assertEqual(
            sorted(description["unresolved_environment"]["ConsoleFunction"]),
            ["COGNITO_CLIENT_ID", "COGNITO_DOMAIN_URL"],
        )
        self.assertIn("CONSOLE_AUTH_MODE", console["environment"])
        self.assertIn("CONSOLE_URL", description["unresolved_environment"]["NotifierFunction"])

    def test_the_console_app_client_settings_custom_resource_is_left_out_locally(self) -> None:
        skipped = set(self.descriptions["alpha"]["skipped_resources"])
        for logical in (
            "ConsoleAppClientSettings",
            "ConsoleAppClientSettingsFunction",
            "ConsoleAppClientSettingsRole",
            "UserPoolDomain",
        ):
            self.assertIn(logical, skipped)
        self.assertNotIn("CognitoHostedUiUrl", self.descriptions["alpha"]["outputs"])
        self.assertNotIn("ConsoleUrl", self.descriptions["alpha"]["outputs"])

    def test_the_alarm_topic_is_encrypted_with_the_project_key(self) -> None:
        outputs = self.descriptions["alpha"]["outputs"]
        attrs = self.client("sns").get_topic_attributes(TopicArn=outputs["AlarmTopicArn"])["Attributes"]
        # !Ref of a key is its id, the last part of its ARN.
        self.assertEqual(attrs["KmsMasterKeyId"], outputs["HelpdeskKeyArn"].rsplit("/", 1)[-1])

    def test_every_function_and_every_dlq_has_an_alarm_that_notifies_the_alarm_topic(self) -> None:
        from samtranslator.yaml_helper import yaml_parse

        resources = yaml_parse(TEMPLATE.read_text())["Resources"]
        alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
        for alarm in alarms:
            self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}])
            self.assertEqual(alarm["OKActions"], [{"Ref": "AlarmTopic"}])
        watched = {d["Value"].get("Ref") or d["Value"]["Fn::GetAtt"][0] for a in alarms for d in a.get("Dimensions", [])}
        functions = {k for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
        dlqs = {k for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and k.endswith("Dlq")}
        self.assertEqual(watched, functions | dlqs)
        (breach_rate,) = [a for a in alarms if "Metrics" in a]
        self.assertEqual(
            {m["MetricStat"]["Metric"]["MetricName"] for m in breach_rate["Metrics"] if "MetricStat" in m},
            {"SlaBreaches", "SlaClocksDecided"},
        )

    def test_moto_skips_the_alarms_and_the_email_subscription_only_when_an_address_is_given(self) -> None:
        skipped = set(self.descriptions["alpha"]["skipped_resources"])
        self.assertIn("SlaBreachRateAlarm", skipped)
        self.assertIn("SlaFunctionErrorsAlarm", skipped)
        self.assertNotIn("AlarmEmailSubscription", skipped)
        self.assertNotIn("AlarmTopic", skipped)

        out = Path(self.tmp.name) / "delta.json"
        result = run_stack(
            "create", "--endpoint", self.endpoint, "--stack-name", "delta",
            "--param", "AlarmEmail=ops@example.com", "--out", str(out),
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("AlarmEmailSubscription", json.loads(out.read_text())["skipped_resources"])
        run_stack("delete", "--endpoint", self.endpoint, "--stack-name", "delta")

    def test_the_media_bucket_is_encrypted_with_the_project_key(self) -> None:
        s3 = self.client("s3")
        outputs = self.descriptions["alpha"]["outputs"]
        rules = s3.get_bucket_encryption(Bucket=outputs["MediaBucketName"])["ServerSideEncryptionConfiguration"]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        self.assertEqual(default["SSEAlgorithm"], "aws:kms")
        self.assertEqual(default["KMSMasterKeyID"], outputs["HelpdeskKeyArn"])

    def test_the_media_function_reads_its_queue_one_file_at_a_time(self) -> None:
        functions = self.descriptions["alpha"]["functions"]
        outputs = self.descriptions["alpha"]["outputs"]
        media = functions["MediaFunction"]
        self.assertEqual(media["environment"]["MEDIA_BUCKET_NAME"], outputs["MediaBucketName"])
        self.assertEqual(functions["AgentApiFunction"]["environment"]["MEDIA_BUCKET_NAME"], outputs["MediaBucketName"])
        (source,) = media["events"]
        self.assertEqual((source["type"], source["queue_url"], source["batch_size"]), ("sqs", outputs["MediaQueueUrl"], 1))
        self.assertTrue(source["report_batch_item_failures"])
        attrs = self.client("sqs").get_queue_attributes(QueueUrl=outputs["MediaQueueUrl"], AttributeNames=["VisibilityTimeout"])
        self.assertEqual(attrs["Attributes"]["VisibilityTimeout"], "360")

    def test_a_second_create_with_the_same_name_fails_clearly(self) -> None:
        out = Path(self.tmp.name) / "again.json"
        result = run_stack("create", "--endpoint", self.endpoint, "--stack-name", "alpha", "--out", str(out))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("already exists", result.stderr)

    def test_delete_removes_the_stack_and_tolerates_a_missing_one(self) -> None:
        out = Path(self.tmp.name) / "gamma.json"
        self.assertEqual(run_stack("create", "--endpoint", self.endpoint, "--stack-name", "gamma", "--out", str(out)).returncode, 0)
        self.assertEqual(run_stack("delete", "--endpoint", self.endpoint, "--stack-name", "gamma").returncode, 0)
        self.assertEqual(run_stack("delete", "--endpoint", self.endpoint, "--stack-name", "gamma").returncode, 0)
        names = self.client("sqs").list_queues(QueueNamePrefix="gamma-").get("QueueUrls", [])
        self.assertEqual(names, [])


class CustomResourcesLeftOut(unittest.TestCase):
    """stack.py's removal of what moto cannot run, on small templates."""

    @staticmethod
    def stack_module():
        import importlib.util

        spec = importlib.util.spec_from_file_location("stack", STACK_PY)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def template(self, extra: dict) -> dict:
        return {
            "Resources": {
                "Settings": {
                    "Type": "Custom::Settings",
                    "Properties": {"ServiceToken": {"Fn::GetAtt": ["SettingsFunction", "Arn"]}},
                },
                "SettingsFunction": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Role": {"Fn::GetAtt": ["SettingsRole", "Arn"]}},
                },
                "SettingsRole": {"Type": "AWS::IAM::Role", "Properties": {}},
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
                **extra,
            },
            "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
        }

    def test_a_custom_resource_goes_with_its_function_and_role(self) -> None:
        stack = self.stack_module()

        kept = stack.without_custom_resources(self.template({}))

        self.assertEqual(sorted(kept["Resources"]), ["Queue"])
        self.assertEqual(list(kept["Outputs"]), ["QueueUrl"])

    def test_a_resource_that_needs_a_custom_resource_stops_the_creation_with_its_name(self) -> None:
        stack = self.stack_module()
        needs = {"Topic": {"Type": "AWS::SNS::Topic", "DependsOn": "Settings", "Properties": {}}}

        with self.assertRaises(stack.StackError) as raised:
            stack.without_custom_resources(self.template(needs))

        self.assertIn("Topic -> Settings", str(raised.exception))


class ConsoleAppClientSettingsFunction(unittest.TestCase):
    """The custom resource's inline code, run here against stand-ins for boto3
    and cfnresponse (it cannot run on moto), on properties as CloudFormation
    hands them over: every value a string."""

    def setUp(self) -> None:
        import types
        from samtranslator.yaml_helper import yaml_parse

        self.resources = yaml_parse(TEMPLATE.read_text())["Resources"]
        self.updates: list[dict] = []
        self.answers: list[tuple] = []
        boto3 = types.ModuleType("boto3")
        updates = self.updates

        class Cognito:
            def update_user_pool_client(self, **settings):
                updates.append(settings)

        boto3.client = lambda service: Cognito()
        cfnresponse = types.ModuleType("cfnresponse")
        cfnresponse.SUCCESS, cfnresponse.FAILED = "SUCCESS", "FAILED"
        cfnresponse.send = lambda event, context, status, data, physical_id, reason=None: self.answers.append(
            (status, physical_id, reason)
        )
        self.saved = {name: sys.modules.get(name) for name in ("boto3", "cfnresponse")}
        sys.modules.update({"boto3": boto3, "cfnresponse": cfnresponse})
        namespace: dict = {}
        exec(self.resources["ConsoleAppClientSettingsFunction"]["Properties"]["Code"]["ZipFile"], namespace)
        self.handler = namespace["handler"]

    def tearDown(self) -> None:
        for name, module in self.saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    @staticmethod
    def as_cloudformation_sends(value):
        """The value with its intrinsics resolved (the one here is the console's
        URL) and its numbers and flags as strings."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return "https://abc123.execute-api.us-east-1.amazonaws.com/console/"
        if isinstance(value, dict):
            return {k: ConsoleAppClientSettingsFunction.as_cloudformation_sends(v) for k, v in value.items()}
        if isinstance(value, list):
            return [ConsoleAppClientSettingsFunction.as_cloudformation_sends(v) for v in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def event(self, kind: str) -> dict:
        settings = self.resources["ConsoleAppClientSettings"]["Properties"]["Settings"]
        return {
            "RequestType": kind,
            "ResourceProperties": {
                "UserPoolId": "us-east-1_EXAMPLE",
                "ClientId": "4example5client6id",
                "ClientName": "helpdesk-agent-console",
                "Settings": self.as_cloudformation_sends(settings),
            },
        }

    def test_every_setting_is_an_update_user_pool_client_parameter(self) -> None:
        import botocore.session

        members = (
            botocore.session.get_session()
            .get_service_model("cognito-idp")
            .operation_model("UpdateUserPoolClient")
            .input_shape.members
        )
        settings = self.resources["ConsoleAppClientSettings"]["Properties"]["Settings"]
        self.assertEqual([name for name in settings if name not in members], [])

    def test_a_create_applies_every_setting_with_numbers_and_flags_typed_again(self) -> None:
        self.handler(self.event("Create"), None)

        (update,) = self.updates
        self.assertEqual(update["ClientId"], "4example5client6id")
        self.assertEqual(update["ClientName"], "helpdesk-agent-console")
        self.assertEqual(update["IdTokenValidity"], 60)
        self.assertIs(update["AllowedOAuthFlowsUserPoolClient"], True)
        self.assertIs(update["EnableTokenRevocation"], True)
        self.assertEqual(update["AllowedOAuthFlows"], ["code"])
        self.assertEqual(update["CallbackURLs"], ["https://abc123.execute-api.us-east-1.amazonaws.com/console/"])
        self.assertEqual(self.answers, [("SUCCESS", "4example5client6id", None)])

    def test_a_delete_leaves_the_client_alone_and_a_failure_is_reported_to_cloudformation(self) -> None:
        self.handler(self.event("Delete"), None)
        broken = self.event("Update")
        broken["ResourceProperties"]["Settings"]["IdTokenValidity"] = "an hour"
        self.handler(broken, None)

        self.assertEqual(self.updates, [])
        self.assertEqual(self.answers[0], ("SUCCESS", "4example5client6id", None))
        self.assertEqual(self.answers[1][0], "FAILED")
        self.assertIn("an hour", self.answers[1][2])


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"stack: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
