"""Route 53 in the lab: a real authoritative DNS server (dnslib) with failover, weighted and simple records,
health checks with AWS's semantics, and a private zone for the database endpoints."""
