"""Workflow definitions in S3 under content-addressed keys.

A definition is stored at ``<prefix><workflow name>/<sha256 of its bytes>.yaml``: the key changes exactly
when the content does, so comparing the live workflow's ``DefinitionS3Location`` with the key of the
file at hand says whether the definition changed, and re-deploying the same file uploads nothing.
(Pointing a workflow at a fixed key that is overwritten would hide changes: the service snapshots the
object when the version is made.)

botocore is imported only inside the functions that talk to S3: operators import this module at DAG parse.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_mwaas.errors import InvalidParameterError
from airflow_provider_mwaas.version_compat import AirflowException, AirflowFailException

DEFAULT_PREFIX = "mwaa-serverless/workflows/"
#: S3's bucket naming rule (general purpose buckets), checked before any request.
BUCKET_NAME = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_ALLOWED = "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending alphanumeric"
#: Codes a retry cannot fix.
_PERMANENT_S3_CODES = frozenset({"AccessDenied", "NoSuchBucket", "NoSuchKey", "InvalidBucketName", "404", "403"})


class DefinitionStoreError(AirflowException):
    """S3 refused a read or write of a workflow definition (after botocore's retries)."""


class PermanentDefinitionStoreError(DefinitionStoreError, AirflowFailException):
    """An S3 refusal a retry of the task cannot fix (access denied, no such bucket or key)."""


def content_key(prefix: str, workflow_name: str, sha256: str) -> str:
    """The content-addressed key of a definition: ``<prefix><workflow_name>/<sha256>.yaml``."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{workflow_name}/{sha256}.yaml"


def check_bucket(field: str, bucket: Any) -> str:
    """Refuse anything but a valid S3 bucket name."""
    if not isinstance(bucket, str) or not BUCKET_NAME.fullmatch(bucket):
        raise InvalidParameterError(field, bucket, _BUCKET_ALLOWED)
    return bucket


def check_prefix(field: str, prefix: Any) -> str:
    """Refuse a key prefix S3 could not hold with a content key after it."""
    allowed = "a string of at most 900 characters not starting with '/' (may be empty)"
    if not isinstance(prefix, str) or len(prefix.encode("utf-8")) > 900 or prefix.startswith("/"):
        raise InvalidParameterError(field, prefix, allowed)
    return prefix


def parse_s3_location(field: str, value: Any) -> dict[str, str]:
    """``"s3://bucket/key"`` or ``{"Bucket", "ObjectKey", "VersionId"?}`` -> the model's ``DefinitionS3Location``."""
    allowed = "an 's3://bucket/key' URI or a dict {'Bucket': ..., 'ObjectKey': ..., 'VersionId'?: ...}"
    if isinstance(value, str):
        match = re.fullmatch(r"s3://([^/]+)/(.+)", value)
        if not match:
            raise InvalidParameterError(field, value, allowed)
        location = {"Bucket": match.group(1), "ObjectKey": match.group(2)}
    elif isinstance(value, dict) and set(value) <= {"Bucket", "ObjectKey", "VersionId"}:
        location = {k: v for k, v in value.items() if v is not None}
        if not all(isinstance(location.get(k), str) and location.get(k) for k in ("Bucket", "ObjectKey")):
            raise InvalidParameterError(field, value, allowed)
    else:
        raise InvalidParameterError(field, value, allowed)
    check_bucket(f"{field}.Bucket", location["Bucket"])
    return location


def s3_uri(location: dict[str, Any]) -> str:
    """``s3://bucket/key`` (``?versionId=...`` when pinned), for messages."""
    uri = f"s3://{location['Bucket']}/{location['ObjectKey']}"
    return f"{uri}?versionId={location['VersionId']}" if location.get("VersionId") else uri


def read_object(client: Any, location: dict[str, Any]) -> bytes:
    """GetObject: the definition's bytes.

    :raises PermanentDefinitionStoreError: no such bucket/key/version, or access denied.
    """
    params = {"Bucket": location["Bucket"], "Key": location["ObjectKey"]}
    if location.get("VersionId"):
        params["VersionId"] = location["VersionId"]
    try:
        return bytes(client.get_object(**params)["Body"].read())
    except Exception as err:
        raise _translate("GetObject", s3_uri(location), err) from err


def ensure_object(client: Any, bucket: str, key: str, content: bytes, sha256: str) -> bool:
    """Upload ``content`` to ``bucket/key`` unless an object with the same sha256 is already there.

    HeadObject comes first, so re-deploying the same definition writes nothing. An object at the key
    without our ``sha256`` metadata (or with another digest) is overwritten. A 403 on HeadObject (an
    identity without ``s3:ListBucket`` gets 403 for a missing key) is treated as "absent".

    :return: whether it uploaded.
    """
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
            raise _translate("HeadObject", f"s3://{bucket}/{key}", err) from err
    else:
        if (head.get("Metadata") or {}).get("sha256") == sha256:
            return False
    try:
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=content,
            ContentType="application/yaml",
            Metadata={"sha256": sha256},
        )
    except Exception as err:
        raise _translate("PutObject", f"s3://{bucket}/{key}", err) from err
    return True


def _translate(operation: str, uri: str, err: Exception) -> DefinitionStoreError:
    from botocore.exceptions import ClientError

    if not isinstance(err, ClientError):
        return DefinitionStoreError(f"{operation} {uri} failed: {err}")
    error = err.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    request_id = err.response.get("ResponseMetadata", {}).get("RequestId")
    message = error.get("Message") or err
    text = f"{operation} {uri} failed with {code}: {message} (request id: {request_id or 'unknown'})"
    if code in _PERMANENT_S3_CODES:
        return PermanentDefinitionStoreError(f"{text}. Check the bucket, the key and the connection's S3 permissions")
    return DefinitionStoreError(text)
