"""`LayeredFunction`: a least-privilege role, a log group with retention, and the function with its
layers as *versioned* ARNs in spec order (Lambda extracts them in that order, later overwriting
earlier); plus what function.toml asks for: managed policies, inline statements, an SQS event
source mapping with exactly the permissions it needs.

Provider semantics relied on (terraform-provider-aws `internal/service/lambda/function.go`,
`event_source_mapping.go`, `internal/service/iam/role_policy.go`, which pulumi-aws 7 runs):
- Function: `reserved_concurrent_executions` defaults to -1 (unreserved); a value >= 0 is applied
  with PutFunctionConcurrency after CreateFunction, and 0 throttles every invocation.
  `kms_key_arn` and `code_signing_config_arn` update in place (UpdateFunctionConfiguration,
  Put/DeleteFunctionCodeSigningConfig): none of the three replaces the function.
- EventSourceMapping: `event_source_arn` forces replacement (a new queue is a new mapping);
  `function_name`, `batch_size`, `maximum_batching_window_in_seconds` and
  `function_response_types` update in place. CreateEventSourceMapping fails ("execution role does
  not have permissions") until the role can read the queue, so the mapping depends on that policy.
- RolePolicy: PutRolePolicy creates and updates it; `name` and `role` force replacement, the
  policy document updates in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from layersmith.builder.function_zip import FunctionPackage
from layersmith.model import FunctionSpec, SqsSource
from layersmith.project.specs import BASIC_EXECUTION, XRAY_WRITE

# What Lambda's poller needs to read and delete a batch (the AWSLambdaSQSQueueExecutionRole managed
# policy grants exactly these, but on every queue): here they are scoped to the mapped queue.
SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})


@dataclass(frozen=True)
class LayeredFunctionArgs:
    spec: FunctionSpec
    physical_name: str
    package: FunctionPackage
    layers: list[pulumi.Input[str]]  # versioned layer ARNs, in the spec's order
    log_retention_days: int


class LayeredFunction(pulumi.ComponentResource):
    def __init__(self, name: str, args: LayeredFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("layersmith:index:LayeredFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec
        self.role = aws.iam.Role(f"{name}-role", assume_role_policy=TRUST_POLICY,
                                 description=f"Execution role of {args.physical_name} (layersmith)", opts=child)
        attachments = self._role_policies(name, spec, child)
        sqs = spec.sqs if spec.sqs and spec.sqs.queue_arn else None
        sqs_policy = aws.iam.RolePolicy(f"{name}-sqs", name="sqs-event-source", role=self.role.name,
                                        policy=sqs_policy_document(sqs), opts=child) if sqs else None
        self.log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/lambda/{args.physical_name}",
                                                 retention_in_days=args.log_retention_days, opts=child)
        self.function = self._function(name, args, attachments)
        if sqs and sqs_policy:
            self.event_source = sqs_mapping(name, self, self.function, sqs, sqs_policy)
        self.register_outputs({"arn": self.function.arn, "name": self.function.name})

    def _role_policies(self, name: str, spec: FunctionSpec, child: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """The role's managed policies (basic execution, X-Ray when traced, function.toml's), then
        function.toml's inline statements: the function waits for all of them."""
        policies = [BASIC_EXECUTION] + ([XRAY_WRITE] if spec.tracing else []) + list(spec.managed_policies)
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(f"{name}-{arn.rsplit('/', 1)[-1]}", role=self.role.name, policy_arn=arn,
                                         opts=child) for arn in policies]
        if spec.statements:
            attachments.append(aws.iam.RolePolicy(f"{name}-statements", name="function-toml-statements",
                                                  role=self.role.name, policy=statements_policy(spec), opts=child))
        return attachments

    def _function(self, name: str, args: LayeredFunctionArgs, attachments: list[pulumi.Resource]
                  ) -> aws.lambda_.Function:
        spec = args.spec
        env = aws.lambda_.FunctionEnvironmentArgs(variables=dict(spec.environment)) if spec.environment else None
        return aws.lambda_.Function(
            name,
            name=args.physical_name,
            role=self.role.arn,
            runtime=spec.runtime,
            handler=spec.handler,
            architectures=[spec.architecture],
            memory_size=spec.memory,
            timeout=spec.timeout,
            code=pulumi.FileArchive(str(args.package.zip_path)),
            layers=args.layers,
            environment=env,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active" if spec.tracing else "PassThrough"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            reserved_concurrent_executions=spec.reserved_concurrency,
            kms_key_arn=spec.kms_key_arn,
            code_signing_config_arn=spec.code_signing_config_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, *attachments]))


def statements_policy(spec: FunctionSpec) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": s.effect, "Action": list(s.actions), "Resource": list(s.resources)} for s in spec.statements]})


def sqs_policy_document(source: SqsSource) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(SQS_POLLER_ACTIONS), "Resource": source.queue_arn}]})


def sqs_mapping(name: str, parent: pulumi.Resource, function: aws.lambda_.Function, source: SqsSource,
                policy: aws.iam.RolePolicy) -> aws.lambda_.EventSourceMapping:
    """Without `ReportBatchItemFailures` in `function_response_types`, Lambda ignores a handler's
    `batchItemFailures` and returns the whole batch to the queue (or deletes all of it)."""
    return aws.lambda_.EventSourceMapping(
        f"{name}-sqs", event_source_arn=source.queue_arn, function_name=function.arn,
        batch_size=source.batch_size, maximum_batching_window_in_seconds=source.maximum_batching_window,
        function_response_types=["ReportBatchItemFailures"] if source.report_batch_item_failures else [],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]))
