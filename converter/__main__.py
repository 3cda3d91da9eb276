import sys

from converter.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
