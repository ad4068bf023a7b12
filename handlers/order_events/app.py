"""Order events: consumes a DynamoDB stream of order changes, reporting partial failures."""


def handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            print(record["eventName"], record["dynamodb"]["Keys"])
        except KeyError:
            failures.append({"itemIdentifier": record["dynamodb"].get("SequenceNumber", "")})
    return {"batchItemFailures": failures}
