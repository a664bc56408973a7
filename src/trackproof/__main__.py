"""`python -m trackproof`: the only place that calls sys.exit."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
