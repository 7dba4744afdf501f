"""The SNS signing certificate served at ``SigningCertURL``: public, as AWS serves it, so a
subscriber can verify a message's signature before trusting it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from logsieve.sns.signing import Signer


def certificate_routes(signer: Signer) -> list[Route]:
    """A GET route at the certificate's path, answering its PEM."""
    pem = signer.certificate_pem

    async def certificate(request: Request) -> Response:
        return Response(pem, media_type="application/x-pem-file")

    return [Route(f"/{signer.certificate_name}", certificate, methods=["GET"])]
