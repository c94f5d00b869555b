"""The one NinjaAPI: mounts every app's router at /api/v1/ and maps errors to problem+json."""

from ninja import NinjaAPI

from rapport.activities.api import router as activities_router
from rapport.commerce.api import router as commerce_router
from rapport.core.api import router as core_router
from rapport.core.api_support import install_error_handlers, session_or_token_auth
from rapport.insights.api import router as olap_router
from rapport.insights.api_dash import router as insights_router
from rapport.insights.api_scores import router as scores_router
from rapport.marketing.api import router as marketing_router
from rapport.parties.api import router as parties_router
from rapport.parties.api_identity import router as identity_router
from rapport.parties.api_imports import router as imports_router
from rapport.sales.api import router as sales_router
from rapport.sales.api_forecast import router as forecast_router
from rapport.sales.api_leads import router as leads_router
from rapport.sales.api_metrics import router as metrics_router
from rapport.sales.api_quotes import router as quotes_router
from rapport.service.api import router as service_router

api = NinjaAPI(
    title="Rapport API",
    version="1",
    description=(
        "REST API of Rapport. Authenticate with a session cookie (browser) or "
        "`Authorization: Bearer <token>` (create tokens under Settings → API tokens). "
        "Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination: pass "
        "the `next` value of one page as `cursor` to get the next. Updates take `version` "
        "(or an `If-Match` header with the ETag); a stale one gets 409/412."
    ),
    auth=session_or_token_auth,
    docs_url="/docs",
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/", core_router)
api.add_router("/", parties_router)
api.add_router("/", imports_router)
api.add_router("/", identity_router)
api.add_router("/", activities_router)
api.add_router("/", commerce_router)
api.add_router("/", leads_router)
api.add_router("/", sales_router)
api.add_router("/", quotes_router)
api.add_router("/", forecast_router)
api.add_router("/", metrics_router)
api.add_router("/", service_router)
api.add_router("/", marketing_router)
api.add_router("/", olap_router)
api.add_router("/", scores_router)
api.add_router("/", insights_router)
