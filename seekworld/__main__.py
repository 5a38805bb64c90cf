import sys

from seekworld.cli.main import main

sys.exit(main())
