"""`python -m powersell`: the same command line as `powersell-pipeline`."""

import sys

from powersell.cli import main

sys.exit(main())
