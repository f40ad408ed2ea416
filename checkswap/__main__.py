import sys

from checkswap.cli import main

sys.exit(main())
