"""Fixtures for the end-to-end tests: real third-party clients against the real server.

Each client runs with an environment that carries only the server's key pair and empty AWS
config/credential files, so nothing from the developer's own AWS setup can leak in.
"""

from __future__ import annotations

import os

import pytest

from tests.server import ACCESS_KEY, SECRET_KEY


@pytest.fixture(scope="session")
def client_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a client subprocess: our credentials, nothing of the user's AWS setup."""
    home = tmp_path_factory.mktemp("aws-home")
    config, credentials = home / "config", home / "credentials"
    config.write_text("")
    credentials.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),  # awslogs keeps a credential cache under ~/.aws
        PYTHONIOENCODING="utf-8",
    )
    return env
