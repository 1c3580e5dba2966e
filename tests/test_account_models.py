"""The account's own models list (Accounts_ListModels), read for fine-tuned deployments: the published example
body (tests/fixtures/arm/ListAccountModels-2025-09-01.json, cited inside) replayed through the real SDK client
and the enumerator, and the gather step that reads it only where a fine-tune needs it."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

import vcr
from azure.core.credentials import AccessToken

from auditor.model.clouds import get_cloud
from auditor.pipeline.audit import _account_models
from auditor.sources.azure import AzureEnumerator
from tests.conftest import make_account, make_deployment

EXAMPLE = Path(__file__).parent / "fixtures" / "arm" / "ListAccountModels-2025-09-01.json"


class ReplayCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("replay", int(time.time()) + 3600)


def test_the_published_account_models_list_is_read_through_the_sdk(tmp_path: Path) -> None:
    account = make_account()
    body = {"value": json.loads(EXAMPLE.read_text())["value"]}
    uri = f"https://management.azure.com{account.id}/models?api-version=2025-09-01"
    cassette = tmp_path / "account-models.json"
    cassette.write_text(
        json.dumps(
            {
                "version": 1,
                "interactions": [
                    {
                        "request": {"body": None, "headers": {}, "method": "GET", "uri": uri},
                        "response": {
                            "status": {"code": 200, "message": "OK"},
                            "headers": {"content-type": ["application/json"]},
                            "body": {"string": json.dumps(body)},
                        },
                    }
                ],
            }
        )
    )
    enumerator = AzureEnumerator(ReplayCredential(), get_cloud("AzureCloud"))
    with vcr.VCR(record_mode="none", serializer="json", match_on=["method", "path"]).use_cassette(str(cassette)):
        models = enumerator.list_account_models(account)
    by_key = {(m.name, m.version): m for m in models}
    assert len(models) == 6 and all(m.kind == account.kind for m in models)
    ada = by_key[("ada.1", "1")]
    assert ada.capabilities["inference"] == "false" and ada.inference_deprecation == date(2024, 1, 1)
    assert not ada.deprecation_tentative  # Planned
    assert by_key[("dall-e-3", "3.0")].deprecation_tentative
    assert by_key[("Llama-3.2-90B-Vision-Instruct", "2")].inference_deprecation is None  # 2099-12-31: no date
    gpt4o = by_key[("gpt-4o", "2024-05-13")]
    assert (gpt4o.replacement_name, gpt4o.replacement_auto_upgrade_start) == ("gpt-4.1", date(2025, 3, 26))


class _Progress:
    def __init__(self) -> None:
        self.added = 0

    def add(self, total: int, what: str) -> None:
        self.added += total

    def advance(self, what: str) -> None: ...


def test_only_accounts_with_a_fine_tune_have_their_models_read() -> None:
    base = make_account()
    other = make_account(id=base.id.replace("/acct", "/other"), name="other")
    deployments = [
        make_deployment("ft", "gpt-4o-mini-2024-07-18.ft-abc", "1", "Standard", account_id=base.id),
        make_deployment("chat", account_id=other.id),
    ]
    asked: list[str] = []

    class Enumerator:
        def list_account_models(self, account: Any) -> list[Any]:
            asked.append(account.name)
            return []

    def submit(what: str, target: str, read: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result((read(), []))
        return future

    progress = _Progress()
    gaps: list[Any] = []
    models = _account_models(
        [base, other],
        deployments,
        Enumerator(),  # type: ignore[arg-type]
        submit,
        lambda job, *_: job.result(),
        gaps,
        progress,
    )
    assert asked == ["acct"] and models == {base.id: ()} and progress.added == 1 and not gaps
