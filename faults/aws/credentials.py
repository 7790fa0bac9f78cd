"""The writer's conninfo for the RPO ledger on AWS: endpoint from the target (or RDS), password from Secrets Manager
or the environment. The password is returned to the caller only: never logged, printed or put in an error.

``database.password_from``:

- ``secretsmanager:ARN``: the secret's ``SecretString``, either the password itself or a JSON object with a
  ``password`` key (the shape of RDS-managed secrets); read in the ARN's region;
- ``env:VAR``: ``os.environ["VAR"]``.

The endpoint is ``database.global_writer_endpoint`` (HOST:PORT) when set, else the Aurora Global Database's
writer endpoint (``describe_global_clusters`` ``Endpoint``), else the writer cluster's endpoint.

Example (what the AWS driver's ``writer_conninfo`` calls)::

    conninfo = resolve_aws_writer_conninfo(load_target("targets/example-aws.yaml"))
"""

from __future__ import annotations

import json

from psycopg.conninfo import make_conninfo

from aftershock.core.credentials import password_from_env
from aftershock.core.errors import TargetError
from aftershock.core.target import Database, Target
from aftershock.faults.aws.session import AwsSessions

__all__ = ["resolve_aws_password", "resolve_aws_writer_conninfo", "writer_endpoint"]


def _database(target: Target) -> Database:
    if target.database is None:
        raise TargetError(f"target {target.name!r} has no database section: add database.clusters, "
                          "database.user and database.password_from")
    return target.database


def _settings_sessions(target: Target, sessions: AwsSessions | None) -> AwsSessions:
    if sessions is not None:
        return sessions
    if target.aws is None:
        raise TargetError(f"target {target.name!r} has no aws section: add aws.allowed_account_ids")
    return AwsSessions(target.aws)


def writer_endpoint(target: Target, *, sessions: AwsSessions | None = None) -> tuple[str, int]:
    """``(host, port)`` of the global writer endpoint (or the writer cluster's)."""
    db = _database(target)
    if db.global_writer_endpoint:
        host, sep, port = db.global_writer_endpoint.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise TargetError(f"database.global_writer_endpoint {db.global_writer_endpoint!r} of target "
                              f"{target.name!r} is not HOST:PORT: fix the target file")
        return host, int(port)
    sessions = _settings_sessions(target, sessions)
    from aftershock.faults.aws.aurora import region_of_arn

    rds = sessions.client("rds", target.primary.name)
    region = next((c.region for c in db.clusters if c.role == "primary"), target.primary.name)
    global_endpoint = None
    if db.global_cluster:
        glob = rds.describe_global_clusters(GlobalClusterIdentifier=db.global_cluster)["GlobalClusters"][0]
        global_endpoint = glob.get("Endpoint")
        writer = next((m for m in glob.get("GlobalClusterMembers", []) if m.get("IsWriter")), None)
        region = region_of_arn(writer["DBClusterArn"]) if writer else region
    cluster = next(c for c in db.clusters if c.region == region)
    described = sessions.client("rds", region).describe_db_clusters(
        DBClusterIdentifier=cluster.name)["DBClusters"][0]
    return str(global_endpoint or described["Endpoint"]), int(described.get("Port") or 5432)


def resolve_aws_password(target: Target, *, sessions: AwsSessions | None = None) -> str:
    """The database password named by ``database.password_from`` (``secretsmanager:ARN`` or ``env:VAR``)."""
    source = _database(target).password_from
    scheme, _, name = source.partition(":")
    if scheme == "env" and name:
        return password_from_env(target, name)
    if scheme == "secretsmanager" and name.startswith("arn:"):
        client = _settings_sessions(target, sessions).client("secretsmanager", name.split(":")[3])
        text = client.get_secret_value(SecretId=name).get("SecretString")
        if not text:
            raise TargetError(f"secret {name} has no SecretString: store the password as text or as JSON "
                              "with a 'password' key")
        try:
            data = json.loads(text)
        except ValueError:
            return str(text)
        if isinstance(data, dict):
            password = data.get("password")
            if not isinstance(password, str) or not password:
                raise TargetError(f"secret {name} is JSON without a 'password' key: add one")
            return password
        return str(text)
    raise TargetError(f"database.password_from {source!r} of target {target.name!r} is not supported on AWS: "
                      "use 'secretsmanager:ARN' or 'env:VAR'")


def resolve_aws_writer_conninfo(target: Target, *, sessions: AwsSessions | None = None,
                                connect_timeout: int = 1) -> str:
    """A libpq conninfo (password included: keep it in memory) of the writer endpoint, with TLS required."""
    db = _database(target)
    host, port = writer_endpoint(target, sessions=sessions)
    return make_conninfo(host=host, port=str(port), dbname=db.database, user=db.user,
                         password=resolve_aws_password(target, sessions=sessions),
                         connect_timeout=connect_timeout, sslmode="require")
