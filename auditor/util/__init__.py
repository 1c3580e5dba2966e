"""Small helpers with no knowledge of Azure or rules: bounded YAML, deadlines, redaction, safe writes."""
