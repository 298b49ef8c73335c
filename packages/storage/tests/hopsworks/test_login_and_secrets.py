"""Login from the client's variables, no prompts, and the API key kept out of errors and logs."""

from __future__ import annotations

import importlib.util
import logging
import traceback

import pytest

pytest.importorskip("hopsworks", reason="the hopsworks extra is not installed (uv sync --extra hopsworks)")

import requests
from hopsworks_common.client.exceptions import RestAPIError

from spotcast_storage import (
    BackendUnavailableError,
    SpotcastError,
    UnsupportedError,
    get_storage,
)

from .conftest import API_KEY


def test_login_passes_the_variables_and_keeps_stdout_clean(cluster, capsys):
    cluster.login.side_effect = lambda **kw: print("\nLogged in to project, explore it here https://x") or cluster.project
    project = get_storage(mode="hopsworks")
    cluster.login.assert_called_once_with(host="hopsworks.example.internal", port=443, project="spotcast_prod",
                                          api_key_value=API_KEY)
    out = capsys.readouterr()
    assert out.out == ""  # stdout may carry a command's JSON; the client's banner goes to stderr
    assert "Logged in" in out.err
    assert project.mode == "hopsworks" and project.name == "spotcast_prod"
    assert API_KEY not in repr(project) and API_KEY not in project.describe()


def test_production_is_a_synonym_and_the_key_alone_selects_hopsworks(cluster):
    assert get_storage(mode="production").mode == "hopsworks"
    assert get_storage().mode == "hopsworks"  # HOPSWORKS_API_KEY set, no --mode


def test_port_and_key_file_options(cluster, tmp_path, monkeypatch):
    monkeypatch.delenv("HOPSWORKS_API_KEY")
    monkeypatch.setenv("HOPSWORKS_PORT", "8181")
    key_file = tmp_path / "key"
    key_file.write_text("filekey-1234567890\n")
    get_storage(mode="hopsworks", api_key_file=key_file)
    assert cluster.login.call_args.kwargs["port"] == 8181
    assert cluster.login.call_args.kwargs["api_key_value"] == "filekey-1234567890"
    monkeypatch.setenv("HOPSWORKS_PORT", "eighty")
    with pytest.raises(BackendUnavailableError, match="HOPSWORKS_PORT"):
        get_storage(mode="hopsworks", api_key_file=key_file)


def test_without_a_key_it_says_what_to_set_and_does_not_prompt(cluster, monkeypatch):
    monkeypatch.delenv("HOPSWORKS_API_KEY")
    with pytest.raises(BackendUnavailableError, match="HOPSWORKS_API_KEY"):
        get_storage(mode="hopsworks")
    cluster.login.assert_not_called()


def test_several_projects_without_a_name_is_a_clear_error(cluster, monkeypatch):
    monkeypatch.delenv("HOPSWORKS_PROJECT")
    cluster.login.side_effect = EOFError("EOF when reading a line")
    with pytest.raises(BackendUnavailableError, match="HOPSWORKS_PROJECT"):
        get_storage(mode="hopsworks")


def test_missing_client_keeps_its_install_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hopsworks" else real(name, *a))
    with pytest.raises(BackendUnavailableError, match=r"spotcast-storage\[hopsworks\]"):
        get_storage(mode="hopsworks")


def _rest_error(status: int, body: str) -> RestAPIError:
    response = requests.Response()
    response.status_code, response.reason, response._content = status, "Unauthorized", body.encode()
    return RestAPIError("https://hopsworks.example.internal/hopsworks-api/api/project", response)


def test_the_api_key_never_appears_in_errors_or_logs(cluster, caplog):
    def failing_login(**kw):
        logging.getLogger("hopsworks_common.client").warning("retrying with header ApiKey %s", kw["api_key_value"])
        try:
            raise ValueError(f"bad header: ApiKey {kw['api_key_value']}")
        except ValueError:
            logging.getLogger("urllib3").exception("request failed")
        raise _rest_error(401, f'{{"errorMsg": "invalid key {kw["api_key_value"]}", "errorCode": 160000}}')

    cluster.login.side_effect = failing_login
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendUnavailableError) as err:
        get_storage(mode="hopsworks")
    text = "".join(traceback.format_exception(err.value))
    assert "HTTP 401" in text and "HOPSWORKS_API_KEY" in text
    assert API_KEY not in text and err.value.__context__ is None
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records) + caplog.text
    assert "retrying with header ApiKey ***" in logged and "request failed" in logged
    assert API_KEY not in logged


def test_client_failures_become_spotcast_errors_without_the_key(hw, cluster):
    fg = hw.get_feature_store().get_or_create_feature_group("prices", version=1, primary_key=["zone"])
    import pandas as pd

    cluster.fs.get_or_create_feature_group.side_effect = RuntimeError(f"cluster down (sent {API_KEY})")
    with pytest.raises(SpotcastError) as err:
        fg.insert(pd.DataFrame({"zone": ["SE3"], "x": [1.0]}))
    assert "cluster down" in str(err.value) and API_KEY not in str(err.value)


def test_sql_is_refused_with_the_reason(hw):
    with pytest.raises(UnsupportedError, match="query API"):
        hw.sql("select 1")
    with pytest.raises(UnsupportedError, match="SQL view"):
        hw.create_sql_view("accuracy", "select 1")


def test_close_logs_out(hw, cluster):
    hw.close()
    cluster.logout.assert_called_once_with()
