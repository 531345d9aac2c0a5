"""Command groups of `ladder ...` that live beside cli.py: each adds its subparser and does its printing."""
