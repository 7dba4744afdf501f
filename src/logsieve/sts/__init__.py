"""STS, the part a client needs to learn who it is: GetCallerIdentity."""

from .service import StsService

__all__ = ["StsService"]
