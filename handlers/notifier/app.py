"""Notifier: invoked asynchronously with an order event; sends the confirmation (example handler)."""


def handler(event, context):
    order_id = event["detail"]["order_id"]
    print(f"notify customer of order {order_id}")
    return {"notified": order_id}
