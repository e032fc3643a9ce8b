import sys

from twnotes.cli import main

sys.exit(main())
