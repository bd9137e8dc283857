#!/usr/bin/env python3
"""Create and delete the helpdesk stack from template.yaml on a local moto server.

The SAM template is translated offline with aws-sam-translator (pinned in
requirements.txt), created in moto's CloudFormation, and described in a JSON file
that the local runner reads: stack outputs, each function's binary, resolved
environment and event sources. There is no second, hand-written list of
resources: everything comes from template.yaml and from what moto created.

    stack.py create --endpoint http://127.0.0.1:5000 --stack-name dev --out .local/dev.json
    stack.py delete --endpoint http://127.0.0.1:5000 --stack-name dev

Local limits handled here (moto 5.2.5):
- Lambda functions and SQS event source mappings cannot run; the mappings are
  disabled after creation, otherwise every message sent counts as a failed receive.
  The local runner polls the queues itself.
- Some resource types are skipped silently (Secrets Manager secrets, Cognito,
  API Gateway v2, S3 bucket and SQS queue policies, SNS subscriptions, CloudWatch
  alarms); they are listed in "skipped_resources". Environment variables and
  outputs that would point at them are left out and listed in
  "unresolved_environment" and "unresolved_outputs". The alarms' SNS topic is
  created; locally nothing publishes to it, since no alarm exists.
- A custom resource would never finish: moto invokes its Lambda function (which
  needs Docker) and waits for the answer. Each one is left out of the stack moto
  creates, with the inline function behind it and that function's role (the
  console app client's settings, which only Cognito needs); they are listed in
  "skipped_resources" too.
- moto's CloudFormation hands out AWS-style queue URLs; they are rewritten to the
  same queues' URLs on the local endpoint, in outputs and environments alike.
- A table's TTL and point-in-time recovery are ignored by moto's CloudFormation;
  they are applied through the DynamoDB API ("applied_after_create").
- Template Rules are not evaluated by moto.

The description file:
    {"endpoint", "region", "account_id", "stack_name",
     "outputs": {OutputKey: value},
     "functions": {LogicalId: {"binary", "function_name", "environment": {...},
        "events": [{"type": "http", "method", "path", "authorizer"},
                   {"type": "sqs", "queue_url", "queue_arn", "batch_size",
                    "report_batch_item_failures"},
                   {"type": "schedule", "expression", "rate_seconds"}]}},
     "skipped_resources", "unresolved_environment", "unresolved_outputs",
     "applied_after_create"}
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

REGION = "us-east-1"
# moto's default account; the translator needs one to build ARNs offline.
ACCOUNT_ID = "123456789012"
CODE_BUCKET = "helpdesk-local-code"
CODE_KEY = "bootstrap.zip"
# Bump when the translation step changes, so stale caches are not reused.
CACHE_VERSION = "1"

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".local"

TERMINAL_OK = {"CREATE_COMPLETE"}
TERMINAL_FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
}


class StackError(Exception):
    """A failure with a message meant for the person running the command."""


# --------------------------------------------------------------------- clients


def client(service: str, endpoint: str):
    import boto3  # imported lazily: it dominates start-up time

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


# ----------------------------------------------------------------- translation


def load_sam_template(path: Path) -> dict[str, Any]:
    """Parse template.yaml, short-form intrinsics (!Ref, !Sub, !GetAtt...) included."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())


def point_code_at_bucket(template: dict[str, Any]) -> None:
    """Replace every local CodeUri with the placeholder object in moto's S3."""
    location = {"Bucket": CODE_BUCKET, "Key": CODE_KEY}
    globals_fn = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_fn:
        globals_fn["CodeUri"] = dict(location)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            props = resource.setdefault("Properties", {})
            if not isinstance(props.get("CodeUri"), dict):
                props["CodeUri"] = dict(location)


def translate(template_path: Path, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parsed SAM template and its CloudFormation translation, cached by content."""
    raw = template_path.read_bytes()
    digest = hashlib.sha256()
    digest.update(CACHE_VERSION.encode())
    digest.update(raw)
    # The pinned translator version is part of what produced the translation.
    requirements = Path(__file__).with_name("requirements.txt")
    if requirements.exists():
        digest.update(requirements.read_bytes())
    digest.update(json.dumps(params, sort_keys=True).encode())
    cache_file = CACHE_DIR / f"translated-{digest.hexdigest()[:16]}.json"
    if cache_file.exists():
        cached = json.loads(cache_file.read_text())
        return cached["sam"], cached["translated"]

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform

    class OfflinePolicyLoader:
        """The template uses no managed policy by name, so no IAM lookup is needed."""

        def load(self) -> dict[str, str]:
            return {}

    sam = load_sam_template(template_path)
    unknown = sorted(set(params) - set(sam.get("Parameters", {})))
    if unknown:
        raise StackError(f"unknown template parameter(s): {', '.join(unknown)}")
    to_translate = load_sam_template(template_path)
    point_code_at_bucket(to_translate)
    parameter_values = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        **params,
    }
    try:
        translated = transform(to_translate, parameter_values, OfflinePolicyLoader())
    except Exception as err:  # the translator's own errors carry the causes
        causes = getattr(err, "causes", None) or []
        detail = "; ".join(str(c) for c in causes) or str(err)
        raise StackError(f"aws-sam-translator rejected {template_path}: {detail}") from err

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sam": sam, "translated": translated}, indent=1, sort_keys=True))
    tmp.replace(cache_file)
    return sam, translated


# ------------------------------------------------------------------- creation


def without_custom_resources(translated: dict[str, Any]) -> dict[str, Any]:
    """A copy of the translated template without its custom resources, the
    functions behind them (their ServiceToken) and those functions' roles:
    moto would invoke the functions, which cannot run here, and wait forever.
    Fails if anything left in the stack still refers to what was taken out."""
    resources = translated.get("Resources", {})
    dropped: set[str] = set()
    for logical, res in resources.items():
        kind = res.get("Type", "")
        if not (kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource"):
            continue
        dropped.add(logical)
        for function in references(res.get("Properties", {}).get("ServiceToken")):
            if resources.get(function, {}).get("Type") == "AWS::Lambda::Function":
                dropped.add(function)
                dropped.update(
                    role
                    for role in references(resources[function].get("Properties", {}).get("Role"))
                    if resources.get(role, {}).get("Type") == "AWS::IAM::Role"
                )
    if not dropped:
        return translated
    kept = {logical: res for logical, res in resources.items() if logical not in dropped}
    dangling = sorted(
        f"{logical} -> {', '.join(sorted(refs))}"
        for logical, res in kept.items()
        if (refs := (references(res) | set(_depends_on(res))) & dropped)
    )
    if dangling:
        raise StackError(f"resources refer to custom resources that cannot run locally: {'; '.join(dangling)}")
    outputs = {
        key: spec for key, spec in translated.get("Outputs", {}).items() if not references(spec.get("Value")) & dropped
    }
    return {**translated, "Resources": kept, "Outputs": outputs}


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)



def ensure_code_object(endpoint: str) -> None:
    """The placeholder zip every function's code points at (moto never runs it)."""
    s3 = client("s3", endpoint)
    try:
        s3.head_object(Bucket=CODE_BUCKET, Key=CODE_KEY)
        return
    except Exception:
        pass
    try:
        s3.create_bucket(Bucket=CODE_BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass  # another stack.py created it concurrently
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bootstrap", "#!/bin/sh\necho 'runs only through the local runner' >&2\nexit 1\n")
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=buf.getvalue())


def failure_reasons(cfn, stack_name: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception:
        return "(no stack events)"
    reasons = [
        f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
    ]
    return "; ".join(reasons) or "(no reason given)"


def create_stack(endpoint: str, stack_name: str, template: dict[str, Any], params: dict[str, str]) -> dict:
    cfn = client("cloudformation", endpoint)
    try:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    except Exception as err:
        raise StackError(f"create_stack {stack_name} failed: {err}") from err

    deadline = time.monotonic() + 60
    delay = 0.05
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in TERMINAL_OK:
            return stack
        if status in TERMINAL_FAILED:
            raise StackError(
                f"stack {stack_name} ended in {status}: "
                f"{stack.get('StackStatusReason') or failure_reasons(cfn, stack_name)}"
            )
        if time.monotonic() > deadline:
            raise StackError(f"stack {stack_name} still {status} after 60 s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def apply_table_settings(endpoint: str, translated: dict[str, Any], physical: dict[str, str]) -> list[str]:
    """Apply the table settings moto's CloudFormation ignores (TTL, point-in-time
    recovery) through the DynamoDB API, so the local table describes like the real one."""
    ddb = client("dynamodb", endpoint)
    applied: list[str] = []
    for logical, res in translated.get("Resources", {}).items():
        if res.get("Type") != "AWS::DynamoDB::Table" or logical not in physical:
            continue
        props = res.get("Properties", {})
        table = physical[logical]
        ttl = props.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled") in (True, "true") and isinstance(ttl.get("AttributeName"), str):
            ddb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
            applied.append(f"{logical}.TimeToLiveSpecification")
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled") in (True, "true"):
            ddb.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            applied.append(f"{logical}.PointInTimeRecoverySpecification")
    return applied


# ---------------------------------------------------------------- description


def references(value: Any) -> set[str]:
    """Logical ids that an intrinsic expression refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(m.split(".", 1)[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(inner, list) and len(inner) > 1:
                    found.update(references(inner[1]))
            else:
                found.update(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(references(inner))
    return found


def rate_seconds(expression: str) -> int | None:
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        return None
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def queue_url_from_arn(sqs, arn: str) -> str:
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def physical_ids(endpoint: str, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource moto created for the stack."""
    cfn = client("cloudformation", endpoint)
    physical: dict[str, str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for res in page["StackResourceSummaries"]:
            physical[res["LogicalResourceId"]] = res.get("PhysicalResourceId", "")
    return physical


def describe(
    endpoint: str,
    stack_name: str,
    sam: dict[str, Any],
    translated: dict[str, Any],
    stack: dict[str, Any],
    physical: dict[str, str],
) -> dict[str, Any]:
    """The stack description the local runner reads (see the module docstring)."""
    lam = client("lambda", endpoint)
    sqs = client("sqs", endpoint)
    events = client("events", endpoint)

    conditions_false = {
        name for name, value in translated.get("Conditions", {}).items() if not _condition_holds(value, stack)
    }
    skipped = sorted(
        logical
        for logical, res in translated.get("Resources", {}).items()
        if logical not in physical and res.get("Condition") not in conditions_false
    )

    queue_urls = local_queue_urls(sqs, stack_name)
    outputs = {
        o["OutputKey"]: queue_urls.get(o.get("OutputValue", ""), o.get("OutputValue", ""))
        for o in stack.get("Outputs", [])
    }
    # An output built from a skipped resource comes back half-resolved (for
    # example "https://${HelpdeskHttpApi}.execute-api..."): leave it out.
    unresolved_outputs = sorted(
        key
        for key, spec in translated.get("Outputs", {}).items()
        if key in outputs and references(spec.get("Value")) & set(skipped)
    )
    for key in unresolved_outputs:
        outputs.pop(key)

    functions: dict[str, Any] = {}
    unresolved: dict[str, list[str]] = {}
    globals_env = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for logical, res in sam.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        name = physical.get(logical)
        if not name:
            raise StackError(f"function {logical} was not created by moto")
        config = lam.get_function_configuration(FunctionName=name)
        # Lambda's variables are strings; moto keeps a Number parameter's Ref as a number.
        env = {
            var: str(queue_urls.get(value, value))
            for var, value in config.get("Environment", {}).get("Variables", {}).items()
        }

        declared = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
        dropped = sorted(
            var for var, expr in declared.items() if references(expr) & set(skipped) or var not in env
        )
        for var in dropped:
            env.pop(var, None)
        if dropped:
            unresolved[logical] = dropped

        build = res.get("Metadata", {}).get("BuildProperties", {})
        entry = {
            "binary": build.get("Binary", logical),
            "function_name": name,
            "environment": env,
            "events": function_events(props.get("Events", {}), name, config["FunctionArn"], lam, sqs, events),
        }
        functions[logical] = entry

    return {
        "endpoint": endpoint,
        "region": REGION,
        "account_id": ACCOUNT_ID,
        "stack_name": stack_name,
        "outputs": outputs,
        "functions": functions,
        "skipped_resources": skipped,
        "unresolved_environment": unresolved,
        "unresolved_outputs": unresolved_outputs,
    }


def local_queue_urls(sqs, stack_name: str) -> dict[str, str]:
    """Map the AWS-style queue URLs that moto's CloudFormation hands out
    (https://sqs.<region>.amazonaws.com/<account>/<name>) to the same queues'
    URLs on the local endpoint, so every URL in the description is usable as is."""
    mapping: dict[str, str] = {}
    for url in sqs.list_queues(QueueNamePrefix=f"{stack_name}-").get("QueueUrls", []):
        name = url.rsplit("/", 1)[-1]
        mapping[f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"] = url
    return mapping


def _condition_holds(expr: Any, stack: dict[str, Any]) -> bool:
    """Evaluate the simple conditions this template uses (Fn::Equals on parameters)."""
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "Ref" in v:
            return params.get(v["Ref"], "")
        return v

    if isinstance(expr, dict) and "Fn::Equals" in expr:
        a, b = expr["Fn::Equals"]
        return str(value(a)) == str(value(b))
    if isinstance(expr, dict) and "Fn::Not" in expr:
        return not _condition_holds(expr["Fn::Not"][0], stack)
    return True


def function_events(
    declared: dict[str, Any], function_name: str, function_arn: str, lam, sqs, events
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in declared.values():
        kind = event.get("Type")
        props = event.get("Properties", {})
        if kind in ("HttpApi", "Api"):
            auth = props.get("Auth", {}).get("Authorizer")
            out.append(
                {
                    "type": "http",
                    "method": str(props.get("Method", "ANY")).upper(),
                    "path": props.get("Path", "/"),
                    "authorizer": None if auth == "NONE" else (auth or "default"),
                }
            )

    # SQS sources as moto created them (queue ARN, batch size, response types).
    mappings = lam.list_event_source_mappings(FunctionName=function_name).get("EventSourceMappings", [])
    for esm in mappings:
        arn = esm["EventSourceArn"]
        if ":sqs:" not in arn:
            continue
        out.append(
            {
                "type": "sqs",
                "queue_url": queue_url_from_arn(sqs, arn),
                "queue_arn": arn,
                "batch_size": esm.get("BatchSize", 10),
                "report_batch_item_failures": "ReportBatchItemFailures" in esm.get("FunctionResponseTypes", []),
            }
        )

    # Schedules: the rules SAM made for Schedule events, as moto holds them.
    if any(e.get("Type") in ("Schedule", "ScheduleV2") for e in declared.values()):
        names = events.list_rule_names_by_target(TargetArn=function_arn).get("RuleNames", [])
        seen = set()
        for rule_name in names:
            rule = events.describe_rule(Name=rule_name)
            expression = rule.get("ScheduleExpression")
            if expression:
                seen.add(expression)
                out.append({"type": "schedule", "expression": expression, "rate_seconds": rate_seconds(expression)})
        # ScheduleV2 becomes AWS::Scheduler::Schedule, which may not reach moto's
        # EventBridge rules: fall back to the template for those.
        for e in declared.values():
            expression = e.get("Properties", {}).get("ScheduleExpression") or e.get("Properties", {}).get("Schedule")
            if e.get("Type") in ("Schedule", "ScheduleV2") and isinstance(expression, str) and expression not in seen:
                out.append({"type": "schedule", "expression": expression, "rate_seconds": rate_seconds(expression)})
    return out


def disable_event_source_mappings(endpoint: str, function_names: list[str]) -> int:
    lam = client("lambda", endpoint)
    count = 0
    for name in function_names:
        for esm in lam.list_event_source_mappings(FunctionName=name).get("EventSourceMappings", []):
            lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
            count += 1
    return count


# -------------------------------------------------------------------- commands


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise StackError(f"--param expects Key=Value, got {pair!r}")
        params[key] = value
    return params


def cmd_create(args: argparse.Namespace) -> None:
    started = time.monotonic()
    template_path = Path(args.template)
    if not template_path.is_file():
        raise StackError(f"template not found: {template_path}")
    params = parse_params(args.param)

    sam, translated = translate(template_path, params)

    ensure_code_object(args.endpoint)
    stack = create_stack(args.endpoint, args.stack_name, without_custom_resources(translated), params)
    physical = physical_ids(args.endpoint, args.stack_name)
    description = describe(args.endpoint, args.stack_name, sam, translated, stack, physical)
    description["applied_after_create"] = apply_table_settings(args.endpoint, translated, physical)
    disabled = disable_event_source_mappings(
        args.endpoint, [f["function_name"] for f in description["functions"].values()]
    )

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")
    tmp.replace(out)

    print(
        f"stack {args.stack_name}: CREATE_COMPLETE in {time.monotonic() - started:.1f}s, "
        f"{len(description['functions'])} functions, {disabled} event source mappings disabled, "
        f"skipped by moto: {', '.join(description['skipped_resources']) or 'none'}; wrote {out}",
        file=sys.stderr,
    )


def cmd_delete(args: argparse.Namespace) -> None:
    cfn = client("cloudformation", args.endpoint)
    try:
        cfn.delete_stack(StackName=args.stack_name)
    except Exception as err:
        if "does not exist" not in str(err):
            raise StackError(f"delete_stack {args.stack_name} failed: {err}") from err
    print(f"stack {args.stack_name}: deleted", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    create = sub.add_parser("create", help="translate template.yaml and create the stack on moto")
    create.add_argument("--endpoint", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    create.add_argument("--stack-name", required=True)
    create.add_argument("--template", default=str(REPO_ROOT / "template.yaml"))
    create.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter")
    create.add_argument("--out", required=True, help="where to write the stack description (JSON)")
    create.set_defaults(func=cmd_create)

    delete = sub.add_parser("delete", help="delete the stack (no error if it is gone)")
    delete.add_argument("--endpoint", required=True)
    delete.add_argument("--stack-name", required=True)
    delete.set_defaults(func=cmd_delete)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except StackError as err:
        print(f"stack.py: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # connection refused, unexpected answers from moto
        print(f"stack.py: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
