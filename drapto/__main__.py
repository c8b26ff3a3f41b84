"""`python -m drapto` is the `drapto` command."""

import sys

from drapto.cli import main

sys.exit(main())
