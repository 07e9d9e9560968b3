"""`python -m api.cli` = `landflow`."""

from api.cli import main

main()
