"""The runbook engine: run notebooks, record and redact their results, report and journal them."""
