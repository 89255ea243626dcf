"""``python -m strangler_proxy``: bad input is one line and exit status 2, and nothing is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler_proxy.__main__ import main
from strangler_proxy.workers import bind

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


def test_a_port_in_use_is_one_line_and_exit_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRANGLER_ADMIN_TOKEN", "t" * 24)
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    config = tmp_path / "proxy.yaml"
    config.write_text(CONFIG.replace("STATE", str(tmp_path / "state.sqlite3")) + f'listen: "127.0.0.1:{port}"\n')
    try:
        assert main(["--config", str(config), "--workers", "2"]) == 2
    finally:
        taken.close()
    expected = f"strangler-proxy: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert capsys.readouterr().err.strip() == expected


def test_workers_must_be_a_positive_number_or_auto(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", "proxy.yaml", "--workers", "0"])
    assert exit_info.value.code == 2
    assert "--workers: expected a positive number or auto, got '0'" in capsys.readouterr().err
