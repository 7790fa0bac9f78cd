"""``python -m aftershock`` is the ``aftershock`` command."""

from aftershock.cli import main

main()
