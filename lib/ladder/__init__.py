"""Ladder: climb the delivery-maturity ladder with notebooks that do the work."""
from .config import load_config
from .hosts import Host, LocalHost, Result, SSHHost
from .record import record, record_step

__all__ = ["Host", "LocalHost", "Result", "SSHHost", "load_config", "record", "record_step"]
__version__ = "0.1.0"
