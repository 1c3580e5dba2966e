"""The pre-1.0 openai SDK (`openai.ChatCompletion.create(engine=...)`, `openai.Embedding.create(
deployment_id=...)`, `openai.Completion.create(...)`): recorded with `sdk: openai<1`, which AOAI-SCAN-002
reports (that module API was removed in openai 1.0, so this code fails before it reaches Azure).
On Azure the deployment was passed as `engine=` or `deployment_id=` (openai-python v0.28
`openai/api_resources/abstract/engine_api_resource.py`), `model=` only for OpenAI.com."""

from __future__ import annotations

import ast

from auditor.sources.scan.calls import LEGACY, Shape, result_call, sdk_shape
from auditor.sources.scan.model import Resolved, Unresolved
from auditor.sources.scan.protocol import ScanContext
from auditor.sources.scan.resolve import Ctx, short

SDK = "openai<1"
_DEPLOYMENT_KEYWORDS = ("engine", "deployment_id", "model")


class LegacyCalls:
    """The recogniser of the pre-1.0 module API."""

    roots = frozenset({"openai"})
    """Modules whose importers may hold these calls (pass 2 reads them)."""
    marks = frozenset({"create", "acreate"})

    def __init__(self, scan: ScanContext) -> None:
        self.scan = scan

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        shape = sdk_shape(node)
        if shape is None or not shape.legacy:
            return False
        record(self.scan, node, shape, ctx)
        return True

    def finish(self) -> None:
        return None


def record(scanner: ScanContext, node: ast.Call, shape: Shape, ctx: Ctx) -> None:
    base = shape.client
    if not isinstance(base, ast.Name):
        return
    origin = ctx.origin(base.id)
    cls = next((name for name, api in LEGACY.items() if api == shape.api), "")
    if origin != ("openai", "") and origin != ("openai", base.id):
        return
    if origin == ("openai", base.id):
        cls = base.id
    keywords, unseen = scanner.keywords(node, ctx)
    parameters = scanner.parameters(shape.api, {k: v for k, v in keywords.items() if k not in _DEPLOYMENT_KEYWORDS})
    given = next((k for k in _DEPLOYMENT_KEYWORDS if k in keywords), None)
    outcome: Resolved | Unresolved
    if given is not None:
        outcome = scanner.resolve(keywords[given][0], keywords[given][1], f"{given}=")
        expression = short(keywords[given][0])
    else:
        why = f"the call passes no engine=, deployment_id= or model= ({'**' + unseen if unseen else 'none given'})"
        outcome = Unresolved(why, "kwargs-unresolved" if unseen else "no-model-keyword")
        expression = "(no engine=)"
    version = None
    found = scanner.project.attribute_assignments(scanner.module, "openai.api_version")
    if len(found) == 1 and found[0][0].value is not None:
        version_outcome = scanner.resolve(found[0][0].value, found[0][1], "openai.api_version")
        if isinstance(version_outcome, Resolved):
            version = version_outcome.text()
    scanner.record(
        result_call(
            api=shape.api,
            file=scanner.display,
            line=node.lineno,
            expression=expression,
            parameters=parameters,
            outcome=outcome,
            via=f"openai.{cls}.create",
            sdk=SDK,
            api_version=version,
        )
    )
