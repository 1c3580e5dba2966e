"""A simulated Azure tenant that the real Azure SDKs and the openai SDK talk to without modification.

Why: the auditor must be demonstrable and testable without an Azure subscription, and its tests must
exercise the same SDK code paths (paging, retries, error mapping, credential chain) that run against
real Azure. So instead of mocking SDK internals, this package serves the wire protocol itself:

* `arm` / `documents` — ARM (management plane) over HTTPS on 127.0.0.1: subscriptions, Cognitive Services
  accounts, deployments, location model catalogs, quota usages and content filter policies, with `nextLink`
  paging, ARM error bodies and ARM headers;
* `graph` — Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`) with `$skipToken` paging;
* `dataplane` / `bodies` — the Azure OpenAI data plane (`/aoai/<account>/openai/v1/...` and the legacy
  deployment paths) with Azure's success bodies, error envelopes, auth failures, content filter and 429 headers;
* `identity` — the App Service managed-identity token endpoint (plain HTTP on loopback), which is what
  `azure.identity.ManagedIdentityCredential` / `DefaultAzureCredential` use when `IDENTITY_ENDPOINT` and
  `IDENTITY_HEADER` are set;
* `server` — TLS, threads, dispatch to the planes, and `SimulatedTenant`; `faults` — injected faults and records.

Every wire shape, error code and message follows public material: the REST specifications and their examples
(Azure/azure-rest-api-specs, specification/cognitiveservices), the SDKs' source, real error bodies quoted in
public issues (cited in rules/knowledge/models.yaml) and the recorded traffic in tests/cassettes. Where none of
them settles a detail, the choice made here is noted in a comment at the place it is made.

The tenant itself (subscriptions, accounts, deployments, catalogs, quota, per-model behaviour) is data:
`auditor/demo/tenant/`, loaded by `load_tenant_spec` / `default_tenant_spec` (`spec`, `load`).
"""

from __future__ import annotations

from auditor.demo.sim.faults import FaultRule, ServedRequest
from auditor.demo.sim.load import default_tenant_data, default_tenant_spec, load_tenant_spec
from auditor.demo.sim.server import SimulatedTenant
from auditor.demo.sim.spec import (
    AccountSpec,
    CallerSpec,
    CatalogEntry,
    ContentFilterSpec,
    DeploymentSimulation,
    DeploymentSpec,
    ModelBehaviour,
    ResourceGroupSpec,
    SubscriptionSpec,
    TenantSpec,
)

__all__ = [
    "AccountSpec",
    "CallerSpec",
    "CatalogEntry",
    "ContentFilterSpec",
    "DeploymentSimulation",
    "DeploymentSpec",
    "FaultRule",
    "ModelBehaviour",
    "ResourceGroupSpec",
    "ServedRequest",
    "SimulatedTenant",
    "SubscriptionSpec",
    "TenantSpec",
    "default_tenant_data",
    "default_tenant_spec",
    "load_tenant_spec",
]
