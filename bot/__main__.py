"""`python -m bot` is `infinipost-bot`."""

import sys

from bot.cli import main

sys.exit(main())
