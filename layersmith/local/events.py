"""Sample events for `layersmith invoke --event sqs|s3|apigw|schedule`, like `sam local generate-event`.

The shapes follow SAM CLI's templates (aws/aws-sam-cli, samcli/lib/generated_sample_events/events/:
sqs/Sqs.json, s3/S3Put.json, apigateway/AwsProxy.json, cloudwatch/ScheduledEvent.json, with the
defaults of its event-mapping.json: account 123456789012, bucket example-bucket, key test/key,
rule ExampleRule, stage prod), which follow the event examples in the Lambda developer guide. The
region is the invoke's (the stack's `aws:region`, else us-east-1) everywhere an event names one.

`apigw` is API Gateway's REST API proxy integration (payload format 1.0), SAM's default
`apigateway aws-proxy`; unlike SAM's template, its body is plain JSON (`isBase64Encoded: false`),
as API Gateway delivers a JSON request body, so a handler can `json.loads(event["body"])`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from layersmith.errors import UserError
from layersmith.regions import partition_of

ACCOUNT = "123456789012"
# Fixed, like SAM's: the same command gives the same event (tests and diffs stay stable).
TIME = "2026-01-01T00:00:00Z"
EPOCH_MS = 1767225600000  # TIME in milliseconds

Event = dict[str, object]


def _partition(region: str) -> str:
    return partition_of(region)


def sqs(region: str, function: str) -> Event:
    """One message of a standard queue, as Lambda's SQS event source mapping delivers it."""
    body = json.dumps({"hello": "from SQS", "function": function})
    return {"Records": [{
        "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78",
        "receiptHandle": "MessageReceiptHandle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(EPOCH_MS), "SenderId": ACCOUNT,
                       "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 1)},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),  # what SQS sends
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:{_partition(region)}:sqs:{region}:{ACCOUNT}:MyQueue",
        "awsRegion": region,
    }]}


def s3(region: str, function: str) -> Event:
    """An `ObjectCreated:Put` notification for one object."""
    bucket = "example-bucket"
    return {"Records": [{
        "eventVersion": "2.0",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": TIME.replace("Z", ".000Z"),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE123456789",
                             "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "testConfigRule",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                       "arn": f"arn:{_partition(region)}:s3:::{bucket}"},
            # The key is URL-encoded in S3 notifications (a space arrives as '+').
            "object": {"key": "test/key", "size": 1024, "eTag": "0123456789abcdef0123456789abcdef",
                       "sequencer": "0A1B2C3D4E5F678901"},
        },
    }]}


def apigw(region: str, function: str) -> Event:
    """`POST /path/to/resource?foo=bar` through a REST API's `{proxy+}` resource (payload 1.0)."""
    suffix = "amazonaws.com.cn" if _partition(region) == "aws-cn" else "amazonaws.com"
    host = f"1234567890.execute-api.{region}.{suffix}"
    headers = {"Accept": "application/json", "Content-Type": "application/json", "Host": host,
               "User-Agent": "Custom User Agent String", "X-Forwarded-For": "127.0.0.1",
               "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    return {
        "resource": "/{proxy+}",
        "path": "/path/to/resource",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"foo": "bar"},
        "multiValueQueryStringParameters": {"foo": ["bar"]},
        "pathParameters": {"proxy": "path/to/resource"},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "1234567890", "resourceId": "123456", "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "requestTime": "01/Jan/2026:00:00:00 +0000",
            "requestTimeEpoch": EPOCH_MS, "path": "/prod/path/to/resource", "resourcePath": "/{proxy+}",
            "httpMethod": "POST", "protocol": "HTTP/1.1", "domainName": host,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "Custom User Agent String", "accountId": None,
                         "caller": None, "user": None, "userArn": None, "accessKey": None,
                         "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None},
        },
        "body": json.dumps({"test": "body"}),
        "isBase64Encoded": False,
    }


def schedule(region: str, function: str) -> Event:
    """An EventBridge (CloudWatch Events) scheduled rule firing."""
    return {
        "version": "0",
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": TIME,
        "region": region,
        "resources": [f"arn:{_partition(region)}:events:{region}:{ACCOUNT}:rule/ExampleRule"],
        "detail": {},
    }


KINDS: dict[str, Callable[[str, str], Event]] = {"sqs": sqs, "s3": s3, "apigw": apigw, "schedule": schedule}


def sample_event(kind: str, region: str, function: str) -> Event:
    """The event `kind` in `region`; `function` (its physical name) only labels the SQS body."""
    try:
        make = KINDS[kind]
    except KeyError:
        raise UserError(f"no sample event {kind!r}; use one of {', '.join(KINDS)}", key="--event") from None
    return make(region, function)
