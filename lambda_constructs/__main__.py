"""``python -m lambda_constructs``: the ``lambda-constructs`` command."""

import sys

from lambda_constructs.cli.main import main

sys.exit(main())
