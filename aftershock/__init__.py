"""aftershock: chaos and resilience test harness that measures RTO, RPO and autoscaling under load."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aftershock")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
