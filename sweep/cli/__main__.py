"""``python -m crustuq.sweep.cli``: the crustuq command line."""

import sys

from crustuq.sweep.cli.app import main

sys.exit(main())
