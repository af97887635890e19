"""`python -m app` is `infinipost-bot`."""

import sys

from app.cli import main

sys.exit(main())
