"""One module per runbook, plus the step helpers they share."""
