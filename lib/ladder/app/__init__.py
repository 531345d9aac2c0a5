"""The team's app on its hosts, shared by the rungs and the assessment."""
