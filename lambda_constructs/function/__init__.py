"""The function layer: [`ProductionFunction`][lambda_constructs.ProductionFunction], its options, safe deployments and
dashboards."""
