"""`python -m cfexport` runs the same CLI as the `cfexport` console script."""

from cfexport.cli import main

main()
