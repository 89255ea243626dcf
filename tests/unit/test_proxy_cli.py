"""``python -m strangler_proxy``: bad input is one line and exit status 2, and nothing is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler_proxy.__main__ import main

CONFIG = """
upstreams:
  monolith: {url: "http://127.0.0.1:1"}
groups: {}
admin: {listen: "127.0.0.1:18556"}
state: {url: "sqlite:///STATE"}
"""


def test_without_an_admin_token_it_refuses_to_start_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRANGLER_ADMIN_TOKEN", raising=False)
    state = tmp_path / "state.sqlite3"
    config = tmp_path / "proxy.yaml"
    config.write_text(CONFIG.replace("STATE", str(state)))

    assert main(["--config", str(config)]) == 2

    err = capsys.readouterr().err.strip()
    assert err == "strangler-proxy: the admin API needs a token: admin.tokens in the config or STRANGLER_ADMIN_TOKEN"
    assert not state.exists()


def test_a_bad_config_is_one_line_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(CONFIG.replace("http://127.0.0.1:1", "ftp://x"))

    assert main(["--config", str(config)]) == 2

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "upstreams.monolith.url" in err
