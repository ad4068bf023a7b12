"""Thumbnailer: an S3 ObjectCreated event -> a thumbnail key, with Powertools-style JSON logs.

The Powertools layer provides aws_lambda_powertools; the imaging layer provides ``imaging``.
"""

import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))


def handler(event, context):
    from imaging import thumbnail_key  # from the layer

    keys = [r["s3"]["object"]["key"] for r in event.get("Records", [])]
    out = [thumbnail_key(k) for k in keys]
    logger.info(
        json.dumps({"message": "thumbnails", "count": len(out), "service": os.environ.get("POWERTOOLS_SERVICE_NAME")})
    )
    return {"thumbnails": out}
