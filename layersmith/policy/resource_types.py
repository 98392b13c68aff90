"""Pulumi type tokens of the resources the rules inspect (pulumi-aws 7)."""

from __future__ import annotations

LAYER_VERSION = "aws:lambda/layerVersion:LayerVersion"
LAYER_PERMISSION = "aws:lambda/layerVersionPermission:LayerVersionPermission"
# layersmith's own grants resource (a dynamic resource: `pulumi-python:dynamic/<module>:<name>`)
LAYER_GRANTS = "pulumi-python:dynamic/layersmith:LayerGrants"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
EVENT_INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
