"""The function layer: :class:`ProductionFunction`, its options, safe deployments and dashboards."""
