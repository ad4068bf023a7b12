"""python -m lambda_constructs.cli"""

import sys

from lambda_constructs.cli.main import main

sys.exit(main())
