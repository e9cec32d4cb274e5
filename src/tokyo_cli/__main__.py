"""``python -m tokyo_cli`` runs the same CLI as the ``tokyo`` console script."""

from tokyo_cli.cli.app import main

if __name__ == "__main__":
    main()
