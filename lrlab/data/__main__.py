"""``python -m lrlab.data fetch --dest DIR ...``: the command line of ``lrlab.data.cli``."""

import sys

from lrlab.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
