"""Nightly cleanup: removes expired carts (example handler)."""


def handler(event, context):
    print("removing carts older than 30 days")
    return {"removed": 0}
