"""Kept for the import path: the code scan lives in the `auditor.sources.scan` package."""

from auditor.sources.scan import ScannedCall, ScanResult, contract_document, contract_from_code, contract_yaml, scan

__all__ = ["ScanResult", "ScannedCall", "contract_document", "contract_from_code", "contract_yaml", "scan"]
