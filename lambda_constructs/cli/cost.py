"""Per-function cost for ``lambda-constructs report``: each function's own traffic, each stack's region.

Prices come from the dated table in `lambda_constructs.core.pricing` (``prices_for(region)``), from
``--prices FILE``, or with ``--price-list`` from the AWS Price List API (boto3 ``pricing`` client, the
ops extra and credentials): the duration, request and provisioned-concurrency figures of the
function's region; the other figures (ephemeral storage, SnapStart, alarms, logs) stay the table's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lambda_constructs.core.pricing import ArchPrices, Prices, prices_for

# Price List API product groups (AWSLambda): (architecture, ArchPrices field), and the request price
PRICE_GROUPS: dict[str, tuple[str, str]] = {
    "AWS-Lambda-Duration": ("x86_64", "duration_gb_s"),
    "AWS-Lambda-Duration-ARM": ("arm64", "duration_gb_s"),
    "AWS-Lambda-Provisioned-Concurrency": ("x86_64", "provisioned_gb_s"),
    "AWS-Lambda-Provisioned-Concurrency-ARM": ("arm64", "provisioned_gb_s"),
    "AWS-Lambda-Duration-Provisioned": ("x86_64", "provisioned_duration_gb_s"),
    "AWS-Lambda-Duration-Provisioned-ARM": ("arm64", "provisioned_duration_gb_s"),
}
REQUEST_GROUP = "AWS-Lambda-Requests"


class PriceListError(Exception):
    """The Price List API answered without a figure this report needs (the message names it)."""


def fetch_prices(client: Any, region: str, base: Prices | None = None) -> Prices:
    """The Lambda prices of ``region`` from the Price List API (first duration tier, USD)."""
    figures: dict[str, float] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "ServiceCode": "AWSLambda",
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            product = json.loads(item) if isinstance(item, str) else item
            group = product.get("product", {}).get("attributes", {}).get("group")
            if group in PRICE_GROUPS or group == REQUEST_GROUP:
                price = _first_tier(product)
                if price is not None and group not in figures:
                    figures[group] = price
        token = page.get("NextToken")
        if not token:
            break
    missing = [g for g in (*PRICE_GROUPS, REQUEST_GROUP) if g not in figures]
    if missing:
        raise PriceListError(f"the Price List API has no {', '.join(missing)} price for {region}")
    start = base or prices_for(region)
    arch: dict[str, dict[str, float]] = {"x86_64": {}, "arm64": {}}
    for group, (name, field) in PRICE_GROUPS.items():
        arch[name][field] = figures[group]
    return replace(
        start,
        x86_64=ArchPrices(**arch["x86_64"]),
        arm64=ArchPrices(**arch["arm64"]),
        requests_per_million=figures[REQUEST_GROUP] * 1_000_000,
        region=region,
        basis=f"{region}: AWS Price List API (duration, requests, provisioned concurrency); other figures: "
        f"{start.basis}",
    )


def _first_tier(product: Mapping[str, Any]) -> float | None:
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        dimensions = sorted(
            (term.get("priceDimensions") or {}).values(), key=lambda d: float(d.get("beginRange", "0") or 0)
        )
        for dimension in dimensions:
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is not None:
                return float(usd)
    return None


def price_reports(
    reports: Sequence[Any],
    templates: Mapping[str, Any],
    regions: Mapping[str, str | None],
    *,
    sizings: Sequence[Any] = (),
    invocations: float | None = None,
    prices: Prices | None = None,
    region: str | None = None,
    price_list: Any = None,
) -> list[Any]:
    """Estimate every report in place; returns the sizing files that named no function."""
    from lambda_constructs.core.drift import match
    from lambda_constructs.core.report import estimate

    functions = [(r, templates[r.stack]["Resources"][r.logical_id]) for r in reports]
    pairs, unmatched = match(functions, sizings) if sizings else ([(r, None) for r in reports], [])
    cache: dict[str | None, Prices] = {}
    for (report, resource), (_, sizing) in zip(functions, pairs, strict=True):
        where = region or regions.get(report.stack.split("/")[0])
        if where not in cache:
            if prices is not None:
                cache[where] = prices
            elif price_list is not None and where is not None:
                cache[where] = fetch_prices(price_list, where)
            else:
                cache[where] = prices_for(where)
        estimate(report, resource, prices=cache[where], invocations=invocations, sizing=sizing)
    return list(unmatched)
