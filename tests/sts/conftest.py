"""The CloudTrail tests' server (named users "ops" and "alice" besides the test key)."""

from tests.cloudtrail.conftest import ct_server, trail_client

__all__ = ["ct_server", "trail_client"]
