"""The host layer: config, hosts, facts, operations and fleets; imports nothing above it."""
