"""The lab's fixed shape: the seed architecture's regions, AZs and database instances.

Names follow AWS so the same experiments read the same against the lab and against AWS.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegionShape:
    name: str
    role: str  # "primary" or "secondary"
    azs: tuple[str, ...]


@dataclass(frozen=True)
class DbInstanceShape:
    name: str
    region: str
    az: str
    initial_role: str  # "writer" or "reader"


PRIMARY = RegionShape("us-east-1", "primary", ("us-east-1a", "us-east-1b", "us-east-1c"))
SECONDARY = RegionShape("us-west-2", "secondary", ("us-west-2a", "us-west-2b", "us-west-2c"))
REGIONS: tuple[RegionShape, ...] = (PRIMARY, SECONDARY)

GLOBAL_CLUSTER = "shop-global"
DB_CLUSTERS = {PRIMARY.name: "shop-east", SECONDARY.name: "shop-west"}
DB_INSTANCES: tuple[DbInstanceShape, ...] = (
    DbInstanceShape("shop-east-a", PRIMARY.name, "us-east-1a", "writer"),
    DbInstanceShape("shop-east-b", PRIMARY.name, "us-east-1b", "reader"),
    DbInstanceShape("shop-west-a", SECONDARY.name, "us-west-2a", "reader"),
)
DB_NAME = "shop"
DB_USER = "shop"


def region(name: str) -> RegionShape:
    """The region called ``name``; raises KeyError for an unknown name."""
    for shape in REGIONS:
        if shape.name == name:
            return shape
    raise KeyError(name)


def region_of_az(az: str) -> RegionShape:
    for shape in REGIONS:
        if az in shape.azs:
            return shape
    raise KeyError(az)
