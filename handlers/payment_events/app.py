"""Payment events from Kafka: records arrive base64-encoded per topic-partition."""

import base64
import json


def handler(event, context):
    for partition, records in event["records"].items():
        for record in records:
            payment = json.loads(base64.b64decode(record["value"]))
            print(json.dumps({"partition": partition, "offset": record["offset"], "payment": payment.get("id")}))
