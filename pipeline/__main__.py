"""`python -m pipeline` runs the precode command line."""

from pipeline.cli import main

main()
