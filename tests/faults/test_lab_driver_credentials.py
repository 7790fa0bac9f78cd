"""The lab driver's writer conninfo from the target, and the password kept out of every repr and message."""

from __future__ import annotations

import contextlib
import pickle
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from aftershock.core.credentials import Conninfo
from aftershock.core.errors import TargetError
from aftershock.core.target import load_target
from aftershock.faults.registry import driver_for

if TYPE_CHECKING:
    from tests.runfixtures import LabHome


def resolve_writer_conninfo(target_ref: str = "lab") -> str:
    """What the probes get: the writer conninfo from the target's driver."""
    with contextlib.closing(driver_for(load_target(target_ref))) as driver:
        return driver.writer_conninfo()


PASSWORD = "s3cr3t-Pa ss/wörd"


def test_lab_target_gives_the_global_writer_endpoint_with_the_lab_password(lab_home: LabHome) -> None:
    lab_home.write_target(lab_home.target())
    lab_home.write_secrets({"db_password": PASSWORD})
    params = conninfo_to_dict(resolve_writer_conninfo())
    assert params == {"host": "127.0.0.1", "port": "6543", "dbname": "shop", "user": "shop",
                      "password": PASSWORD, "connect_timeout": "1"}


def test_env_password_and_a_target_file(lab_home: LabHome, monkeypatch: pytest.MonkeyPatch) -> None:
    path = lab_home.root / "other.yaml"
    path.write_text(yaml.safe_dump(lab_home.target(password_from="env:DB_PW", global_writer_endpoint="db.x:5432")))
    monkeypatch.setenv("DB_PW", PASSWORD)
    params = conninfo_to_dict(resolve_writer_conninfo(str(path)))
    assert (params["host"], params["port"], params["password"]) == ("db.x", "5432", PASSWORD)


@pytest.mark.parametrize(("database", "secret", "message"), [
    ({"global_writer_endpoint": None}, {"db_password": "x"},
     "target 'lab' has no database.global_writer_endpoint: set it to the HOST:PORT of the global writer endpoint"),
    ({"global_writer_endpoint": "db-without-port"}, {"db_password": "x"},
     "database.global_writer_endpoint 'db-without-port' of target 'lab' is not HOST:PORT: fix the target file"),
    ({"password_from": "env:NO_SUCH_VAR_4711"}, {},
     "environment variable NO_SUCH_VAR_4711 (database.password_from of target 'lab') is not set: "
     "export NO_SUCH_VAR_4711 with the database password"),
    ({"password_from": "secretsmanager:arn:x"}, {},
     "database.password_from 'secretsmanager:arn:x' of target 'lab' is not supported for a lab target: "
     "use 'lab' or 'env:VAR'"),
    ({}, None, "the lab's secrets file {home}/lab/secrets.json is missing: start the lab with "
               "`aftershock lab up --detach`"),
    ({}, {"other": 1}, "the lab's secrets file {home}/lab/secrets.json has no db_password: restart the lab with "
                       "`aftershock lab down` and `aftershock lab up --detach`"),
])
def test_missing_pieces_are_named_with_the_fix(lab_home: LabHome, database: dict[str, Any], secret: object,
                                               message: str) -> None:
    lab_home.write_target(lab_home.target(**database))
    if secret is not None:
        lab_home.write_secrets(secret)
    with pytest.raises(TargetError) as info:
        resolve_writer_conninfo()
    assert str(info.value) == message.format(home=lab_home.root)


def test_no_database_section(lab_home: LabHome) -> None:
    data = lab_home.target()
    del data["database"]
    lab_home.write_target(data)
    with pytest.raises(TargetError) as info:
        resolve_writer_conninfo()
    assert str(info.value) == ("target 'lab' has no database section: add database.global_writer_endpoint, "
                               "database.user and database.password_from to the target file")


def test_no_lab_running(lab_home: LabHome) -> None:
    with pytest.raises(TargetError, match="no lab is running"):
        resolve_writer_conninfo()


@pytest.mark.parametrize("conninfo", [
    f"host=127.0.0.1 port=5432 user=shop password='{PASSWORD}'",
    "postgresql://shop:s3cr3t-Pa%20ss%2Fw%C3%B6rd@127.0.0.1:5432/shop",
])
def test_conninfo_never_shows_its_password(conninfo: str) -> None:
    secret = Conninfo(conninfo)
    assert secret.endpoint == "127.0.0.1:5432"
    for text in (repr(secret), str(secret), f"{secret}"):
        assert "s3cr3t" not in text
    assert secret.redact(f"oops {PASSWORD} and s3cr3t-Pa%20ss%2Fw%C3%B6rd") == "oops *** and ***"
    assert secret.reveal() == conninfo
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_invalid_conninfo_error_does_not_echo_it() -> None:
    with pytest.raises(ValueError) as info:
        Conninfo("host=x password=abc def")
    assert "abc" not in str(info.value) and "def" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
