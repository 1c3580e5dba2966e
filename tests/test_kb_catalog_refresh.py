"""`audit kb refresh --from-catalog` reads dates the way the audit does: placeholders are no dates, the earlier of
SKU and model dates wins, a version whose recorded retirement has passed is never revived, and the ARM endpoint
of the chosen cloud is the one read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.knowledge.catalog import RegionCatalog, refresh_from_catalogs, schedule_from_catalogs
from auditor.model.facts import CatalogModel, CatalogSku, earliest_retirement

ROOT = Path(__file__).resolve().parents[1]
KB = (ROOT / "rules" / "knowledge" / "models.yaml").read_text()
TODAY = date(2026, 12, 3)


def _model(name: str, version: str, retires: date | None, *skus: CatalogSku, status: str = "GenerallyAvailable"):
    return CatalogModel(
        kind="OpenAI",
        format="OpenAI",
        name=name,
        version=version,
        lifecycle_status=status,
        inference_deprecation=retires,
        skus=skus,
    )


def test_placeholder_dates_are_no_dates() -> None:
    assert earliest_retirement(date(2099, 12, 31)) is None
    assert earliest_retirement(date(2099, 12, 31), [date(2027, 5, 1)]) == date(2027, 5, 1)
    catalogs = [RegionCatalog("eastus2", (_model("gpt-4o-mini", "2024-07-18", date(2099, 12, 31)),))]
    schedule, notes = schedule_from_catalogs(catalogs, KB, "catalog", TODAY)
    assert schedule.rows == ()
    assert any("placeholder date in eastus2" in n for n in notes)
    result = refresh_from_catalogs(KB, catalogs, "sub", TODAY, "models.yaml")
    assert not result.changed and "2099" not in result.new_text


def test_the_earlier_of_sku_and_model_dates_is_proposed_as_the_audit_reads_it() -> None:
    sku = CatalogSku("Standard", "OpenAI.Standard.gpt-4o-mini", deprecation_date=date(2027, 3, 1))
    catalogs = [RegionCatalog("eastus2", (_model("gpt-4o-mini", "2024-07-18", date(2027, 4, 14), sku),))]
    schedule, _ = schedule_from_catalogs(catalogs, KB, "catalog", TODAY)
    (row,) = schedule.rows
    assert row.retires == date(2027, 3, 1)
    result = refresh_from_catalogs(KB, catalogs, "sub", TODAY, "models.yaml")
    assert result.dates_moved == ["gpt-4o-mini 2024-07-18: 2027-04-14 -> 2027-03-01"]


def test_a_version_whose_recorded_date_has_passed_is_not_revived() -> None:
    # gpt-35-turbo 1106 retired on 2025-11-14 (recorded); a stale region still lists it as GA with a new date
    catalogs = [RegionCatalog("eastus2", (_model("gpt-35-turbo", "1106", date(2027, 1, 1)),))]
    schedule, notes = schedule_from_catalogs(catalogs, KB, "catalog", TODAY)
    assert schedule.rows == ()
    assert any(
        "gpt-35-turbo 1106: the knowledge base records its retirement on 2025-11-14 (passed)" in n for n in notes
    )
    assert not refresh_from_catalogs(KB, catalogs, "sub", TODAY, "models.yaml").changed


@pytest.mark.parametrize("flag", [["--management-endpoint", "http://plain.example"], ["--cloud", "NoSuchCloud"]])
def test_from_catalog_honours_cloud_and_management_endpoint(flag: list[str], capsys) -> None:
    args = ["kb", "refresh", "--from-catalog", "--subscription", "sub", "--location", "eastus2", *flag]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert ("--management-endpoint must be an https:// URL" in err) or ("unknown cloud 'NoSuchCloud'" in err)


def test_from_catalog_reads_the_endpoint_it_is_given(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import auditor.sources.azure as azure

    clouds = []

    class Recording:
        def __init__(self, credential, cloud, **kwargs) -> None:
            clouds.append(cloud)

        def list_catalog(self, subscription: str, location: str) -> list[CatalogModel]:
            return []

    monkeypatch.setattr(azure, "AzureEnumerator", Recording)
    args = ["kb", "refresh", "--from-catalog", "--subscription", "sub", "--location", "eastus2"]
    assert main([*args, "--cloud", "AzureUSGovernment", "--management-endpoint", "https://arm.corp.example/"]) == 0
    assert main([*args, "--cloud", "AzureChinaCloud"]) == 0
    capsys.readouterr()
    assert clouds[0].management_endpoint == "https://arm.corp.example"
    assert clouds[0].name == "AzureUSGovernment"
    assert clouds[1].management_endpoint == "https://management.chinacloudapi.cn"
