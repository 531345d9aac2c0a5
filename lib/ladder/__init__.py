"""Ladder: climb the delivery-maturity ladder with notebooks that do the work."""

from .core.config import load_config
from .core.hosts import Host, LocalHost, Result, SSHHost, environment_hosts
from .engine.record import record, record_step

__all__ = ["Host", "LocalHost", "Result", "SSHHost", "environment_hosts", "load_config", "record", "record_step"]
__version__ = "0.1.0"
