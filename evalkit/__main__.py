"""``python -m evalkit`` is the ``evalkit`` command."""

import sys

from evalkit.cli import main

sys.exit(main())
