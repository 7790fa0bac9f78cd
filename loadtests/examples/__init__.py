"""Example workloads for your own platform: copy one, change the paths, pass it with ``--locustfile``."""
