"""``python -m driftvakt.cli``: the same command as ``driftvakt``."""

import sys

from driftvakt.cli import main

sys.exit(main())
