"""`python -m layersmith` — same entry point as the `layersmith` console script."""

import sys

from layersmith.cli import main

sys.exit(main())
