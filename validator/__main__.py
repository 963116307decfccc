"""``python -m validator``: the same as the ``release-policy`` command."""

import sys

from validator.cli import main

sys.exit(main())
