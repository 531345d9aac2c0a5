"""`ladder config schema|check`: the JSON Schema from the models, and a check that exits 2 on a bad file."""

import json

import pytest

from ladder.cli import main

pytestmark = pytest.mark.local


def test_schema_is_json_schema_of_every_section(capsys):
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "LadderFile" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "app",
        "environments",
        "ssh",
        "runs",
        "artifacts",
        "build",
        "balancer",
        "ci",
        "logs",
        "monitoring",
    }
    host = schema["$defs"]["HostSection"]["properties"]
    assert host["port"]["maximum"] == 65535 and "pattern" in host["name"]


def test_check_says_what_a_file_defines_or_exits_2(tmp_path, capsys):
    path = tmp_path / "ladder.yml"
    path.write_text(
        "app: {name: shop, repo: app}\nenvironments: {prod: {hosts: [{name: web1, address: local, base: w}]}}\n"
    )
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "ok:" in capsys.readouterr().out
    path.write_text("app: {name: shop, repo: app, colour: blue}\nenvironments: {prod: {hosts: []}}\n")
    assert main(["config", "check", "--config", str(path)]) == 2
    assert (
        capsys.readouterr().err
        == f"ladder: error: {path}: app: unknown key 'colour'; allowed: name, repo, wsgi, health_path, port\n"
    )
