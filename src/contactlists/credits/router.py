"""HTTP for the account's credit balance."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from contactlists.credits import service
from contactlists.credits.schemas import CreditsOut
from contactlists.web.deps import DatabaseDep, PrincipalDep, json_response
from contactlists.web.routes import ContractRoute

router = APIRouter(prefix="/v1", route_class=ContractRoute, tags=["Credits"])


@router.get("/credits", operation_id="getCredits", responses={200: {"model": CreditsOut}})
async def get_credits(principal: PrincipalDep, database: DatabaseDep) -> Response:
    """The account's remaining credits (`null` with `unlimited: true` for unlimited accounts)."""
    return json_response(await service.remaining(database, principal))
