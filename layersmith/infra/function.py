"""`LayeredFunction`: a least-privilege role, a log group with retention, and the function with its
layers as *versioned* ARNs in spec order (Lambda extracts them in that order, later overwriting
earlier)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from layersmith.build.function_zip import FunctionPackage
from layersmith.model import FunctionSpec

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
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
        policies = [BASIC_EXECUTION] + ([XRAY_WRITE] if spec.tracing else [])
        attachments = [aws.iam.RolePolicyAttachment(f"{name}-{arn.rsplit('/', 1)[-1]}", role=self.role.name,
                                                    policy_arn=arn, opts=child) for arn in policies]
        self.log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/aws/lambda/{args.physical_name}",
                                                 retention_in_days=args.log_retention_days, opts=child)
        env = aws.lambda_.FunctionEnvironmentArgs(variables=dict(spec.environment)) if spec.environment else None
        self.function = aws.lambda_.Function(
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, *attachments]))
        self.register_outputs({"arn": self.function.arn, "name": self.function.name})
