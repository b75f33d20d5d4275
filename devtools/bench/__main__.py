"""``python -m devtools.bench [options]`` (see the package's docstring; ``--help`` for the options)."""

import sys

from devtools.bench.cli import main

sys.exit(main(sys.argv[1:]))
