"""Envoy configuration documents (plain dicts, dumped as JSON): the bootstrap and the watched dynamic files.

Static in the bootstrap: every listener and cluster. Dynamic (files Envoy watches, swapped by rename):
the front door's route (the traffic dials), each ALB's targets, the DB writer and each region's readers.

Names::

    front door listener  "front-door"      route "front-door" -> weighted clusters "ga-via-<region>"
    ga-via-<region>      priority 0 = that region's ALB, priority 1.. = the other regions' ALBs
    ALB listener         "alb-<region>"    -> cluster "alb-<region>" (EDS file of ready pods)
    DB listeners         "db-writer", "db-readers-<region>" -> same-named clusters (EDS files)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.lab.envoy.models import Endpoint, EnvoyLayout, HealthCheckSettings

Doc = dict[str, Any]

FRONT_DOOR = "front-door"
DB_WRITER = "db-writer"
GA_ROUTE_TIMEOUT_S = 10.0  # what a client waits at most at the front door
ALB_ROUTE_TIMEOUT_S = 60.0  # ALB idle timeout default
CONNECT_TIMEOUT_S = 1.0

_ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
_CLA_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"

ACCESS_LOG_FORMAT: Mapping[str, str] = {
    "start": "%START_TIME(%s.%6f)%",
    "duration_ms": "%DURATION%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(:PATH)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "upstream_cluster": "%UPSTREAM_CLUSTER%",
    "upstream_host": "%UPSTREAM_HOST%",
    "pod": "%RESP(X-POD)%",
    "region": "%RESP(X-REGION)%",
    "az": "%RESP(X-AZ)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


def ga_cluster(region: str) -> str:
    return f"ga-via-{region}"


def alb_cluster(region: str) -> str:
    return f"alb-{region}"


def db_readers_cluster(region: str) -> str:
    return f"db-readers-{region}"


def _stat_prefix(listener: str) -> str:
    return listener.replace("-", "_")


def version_stat(resource: str) -> str:
    """The stat holding the ``version_info`` Envoy has in force for a dynamic resource (route or cluster)."""
    if resource == FRONT_DOOR:
        return f"http.{_stat_prefix(FRONT_DOOR)}.rds.{FRONT_DOOR}.version_text"
    return f"cluster.{resource}.version_text"


@dataclass(frozen=True)
class ConfigPaths:
    """Where the bootstrap, the dynamic files and the logs live under one folder."""

    root: Path

    @property
    def bootstrap(self) -> Path:
        return self.root / "bootstrap.json"

    @property
    def envoy_log(self) -> Path:
        return self.root / "envoy.log"

    def dynamic(self, resource: str) -> Path:
        # One folder per file: a rename there reloads only that resource.
        return self.root / "dynamic" / resource / f"{resource}.json"

    def access_log(self, listener: str) -> Path:
        return self.root / "logs" / f"access-{listener}.jsonl"

    def health_log(self, cluster: str) -> Path:
        return self.root / "logs" / f"health-{cluster}.jsonl"


def _seconds(value: float) -> str:
    return f"{value:.3f}s"


def _address(host: str, port: int) -> Doc:
    return {"socket_address": {"address": host, "port_value": port}}


def _file_source(path: Path) -> Doc:
    return {
        "resource_api_version": "V3",
        "path_config_source": {"path": str(path), "watched_directory": {"path": str(path.parent)}},
    }


ROUTE53_CHECKER_AGENT = "Amazon-Route53-Health-Check-Service (aftershock lab)"


def _access_log(path: Path) -> list[Doc]:
    # GA's health checks through the ALBs would otherwise fill the ALB logs; clients never send this agent.
    # A request WITHOUT a user-agent must still be logged: Envoy does not invert a match on a missing header
    # unless it is treated as empty (such requests went missing from the ground truth before).
    # The lab's Route 53 checkers (route53-failover) are left out the same way: they are not clients.
    not_health_check = {"and_filter": {"filters": [
        {"header_filter": {"header": {"name": "user-agent", "string_match": {"exact": agent},
                                      "invert_match": True, "treat_missing_header_as_empty": True}}}
        for agent in ("Envoy/HC", ROUTE53_CHECKER_AGENT)]}}
    return [
        {
            "name": "envoy.access_loggers.file",
            "filter": not_health_check,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": str(path),
                "log_format": {"json_format": dict(ACCESS_LOG_FORMAT)},
            },
        }
    ]


def _health_check(settings: HealthCheckSettings, host_header: str, event_log: Path) -> Doc:
    interval = _seconds(settings.interval_s)
    return {
        "timeout": _seconds(settings.timeout_s),
        "interval": interval,
        # Envoy otherwise checks idle clusters only once a minute and speeds up/slows down at edges.
        "no_traffic_interval": interval,
        "no_traffic_healthy_interval": interval,
        "unhealthy_interval": interval,
        "unhealthy_edge_interval": interval,
        "healthy_edge_interval": interval,
        "healthy_threshold": settings.healthy_threshold,
        "unhealthy_threshold": settings.unhealthy_threshold,
        "http_health_check": {
            "path": settings.path,
            "host": host_header,
            # Without this a single 503 ejects at once; AWS counts it towards the unhealthy threshold.
            "retriable_statuses": [{"start": 100, "end": 600}],
        },
        "event_logger": [
            {
                "name": "envoy.health_check.event_sinks.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.health_check.event_sinks.file.v3"
                    ".HealthCheckEventFileSink",
                    "event_log_path": str(event_log),
                },
            }
        ],
        "always_log_health_check_failures": True,
    }


def _http_listener(name: str, port: int, route: Doc, access_log: Path, *, host: str = "127.0.0.1",
                   keepalive_s: float | None = None) -> Doc:
    # keepalive_s: an ALB's client keep-alive duration (connections are closed gracefully after it)
    limits = {} if keepalive_s is None else {"common_http_protocol_options": {
        "max_connection_duration": _seconds(keepalive_s)}}
    return {
        "name": name,
        "address": _address(host, port),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network."
                            "http_connection_manager.v3.HttpConnectionManager",
                            "stat_prefix": _stat_prefix(name),
                            "codec_type": "AUTO",
                            **limits,
                            **route,
                            "http_filters": [
                                {
                                    "name": "envoy.filters.http.router",
                                    "typed_config": {
                                        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                                    },
                                }
                            ],
                            "access_log": _access_log(access_log),
                        },
                    }
                ]
            }
        ],
    }


def _tcp_listener(name: str, port: int) -> Doc:
    return {
        "name": name,
        "address": _address("127.0.0.1", port),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.tcp_proxy",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                            "stat_prefix": _stat_prefix(name),
                            "cluster": name,
                        },
                    }
                ]
            }
        ],
    }


def _eds_cluster(name: str, paths: ConfigPaths) -> Doc:
    return {
        "name": name,
        "type": "EDS",
        "connect_timeout": _seconds(CONNECT_TIMEOUT_S),
        "lb_policy": "ROUND_ROBIN",
        "eds_cluster_config": {"eds_config": _file_source(paths.dynamic(name))},
    }


def _alb_cluster(region: str, paths: ConfigPaths, health: HealthCheckSettings) -> Doc:
    name = alb_cluster(region)
    return {
        **_eds_cluster(name, paths),
        "health_checks": [_health_check(health, name, paths.health_log(name))],
        # A deregistered target leaves at once, even while it still passes checks.
        "ignore_health_on_host_removal": True,
        "common_lb_config": {
            # No healthy target -> 503, so GA sees the region unhealthy (AWS ALB would fail open instead).
            "healthy_panic_threshold": {"value": 0.0},
            "ignore_new_hosts_until_first_hc": True,
        },
    }


def _ga_cluster(region: str, layout: EnvoyLayout, paths: ConfigPaths, health: HealthCheckSettings) -> Doc:
    name = ga_cluster(region)
    order = [region, *(r for r in layout.regions if r != region)]
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": _seconds(CONNECT_TIMEOUT_S),
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "priority": priority,
                    "locality": {"region": target},
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": _address(layout.alb_host(target), layout.alb[target]),
                                "hostname": alb_cluster(target),
                            }
                        }
                    ],
                }
                for priority, target in enumerate(order)
            ],
        },
        "health_checks": [_health_check(health, name, paths.health_log(name))],
    }


def bootstrap(
    layout: EnvoyLayout, paths: ConfigPaths, ga_health: HealthCheckSettings, alb_health: HealthCheckSettings,
    alb_keepalive_s: float | None = None,
) -> Doc:
    """The whole static configuration; the dynamic files must exist before Envoy starts."""
    front_route = {"rds": {"route_config_name": FRONT_DOOR, "config_source": _file_source(paths.dynamic(FRONT_DOOR))}}
    listeners = [_http_listener(FRONT_DOOR, layout.front_door, front_route, paths.access_log(FRONT_DOOR))]
    clusters = []
    for region in layout.regions:
        alb = alb_cluster(region)
        alb_route = {"route_config": _route_config(alb, {alb: 100}, ALB_ROUTE_TIMEOUT_S)}
        listeners.append(_http_listener(alb, layout.alb[region], alb_route, paths.access_log(alb),
                                        host=layout.alb_host(region), keepalive_s=alb_keepalive_s))
        listeners.append(_tcp_listener(db_readers_cluster(region), layout.db_readers[region]))
        clusters.append(_ga_cluster(region, layout, paths, ga_health))
        clusters.append(_alb_cluster(region, paths, alb_health))
        clusters.append(_eds_cluster(db_readers_cluster(region), paths))
    listeners.append(_tcp_listener(DB_WRITER, layout.db_writer))
    clusters.append(_eds_cluster(DB_WRITER, paths))
    return {
        "node": {"id": "aftershock-lab", "cluster": "aftershock-lab"},
        "admin": {"address": _address("127.0.0.1", layout.admin)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


def _route_config(name: str, weights: Mapping[str, int], timeout_s: float) -> Doc:
    # Envoy wants at least one weighted cluster; a 0 % group is simply left out.
    split = [{"name": cluster, "weight": weight} for cluster, weight in weights.items() if weight > 0]
    return {
        "name": name,
        "virtual_hosts": [
            {
                "name": name,
                "domains": ["*"],
                "routes": [
                    {
                        "match": {"prefix": "/"},
                        "route": {"weighted_clusters": {"clusters": split}, "timeout": _seconds(timeout_s)},
                    }
                ],
            }
        ],
    }


def front_door_routes(version: str, weights: Mapping[str, int]) -> Doc:
    """RDS file: the front door's split of requests over the GA endpoint groups (region -> percent)."""
    resource = _route_config(
        FRONT_DOOR, {ga_cluster(region): weight for region, weight in weights.items()}, GA_ROUTE_TIMEOUT_S
    )
    return {"version_info": version, "resources": [{"@type": _ROUTE_TYPE, **resource}]}


def load_assignment(version: str, cluster: str, region: str, endpoints: Sequence[Endpoint]) -> Doc:
    """EDS file: ``endpoints`` of ``cluster``, grouped by AZ (locality zone), hostname = endpoint name."""
    zones: dict[str, list[Doc]] = {}
    for endpoint in endpoints:
        zones.setdefault(endpoint.az, []).append(
            {"endpoint": {"address": _address(endpoint.host, endpoint.port), "hostname": endpoint.name}}
        )
    groups = [
        {"locality": {"region": region, "zone": zone}, "lb_endpoints": lb_endpoints}
        for zone, lb_endpoints in sorted(zones.items())
    ]
    resource = {"@type": _CLA_TYPE, "cluster_name": cluster, "endpoints": groups}
    return {"version_info": version, "resources": [resource]}
