"""Checkout workflow steps: validate the order, then charge it (each step idempotent on order_id)."""


class InvalidOrder(Exception):
    pass


def validate(event, context):
    if not event.get("order_id") or event.get("total", 0) <= 0:
        raise InvalidOrder(f"order {event.get('order_id')!r} has no positive total")
    return {**event, "valid": True}


def charge(event, context):
    return {**event, "charged": event["total"], "idempotency_key": f"charge-{event['order_id']}"}
