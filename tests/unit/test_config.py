from __future__ import annotations

import pytest

from monolith.config import Config, ConfigError


def test_defaults_run_on_sqlite_without_any_environment() -> None:
    config = Config.from_env({})
    assert config.database_url.startswith("sqlite:///")
    assert config.debug is False
    assert config.jwt_keys_configured is False


def test_environment_overrides_are_read() -> None:
    config = Config.from_env(
        {
            "DATABASE_URL": "postgres://u@h/db",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "shop.example, api.example",
            "SECRET_KEY": "s3cret",
            "MAX_BODY_BYTES": "2048",
        }
    )
    assert config.database_url == "postgres://u@h/db"
    assert config.debug is True
    assert config.allowed_hosts == ("shop.example", "api.example")
    assert config.secret_key == "s3cret"
    assert config.max_body_bytes == 2048


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES must be an integer"),
        ({"JWT_PRIVATE_KEY_FILE": "/k.pem"}, "set both JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(environ)
