"""``python -m devtools.devstack run|test|bench ...`` (see the package's docstring)."""

import sys

from devtools.devstack.cli import main

sys.exit(main(sys.argv[1:]))
