"""``python -m streamspec``: the same command line as the ``streamspec`` script, for an
environment whose scripts directory is not on ``PATH``."""

import sys

from ._cli import main

sys.exit(main())
