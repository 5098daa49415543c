"""``python -m critmin`` runs the command line."""

from critmin.cli import main

if __name__ == "__main__":  # not when a worker process of `critmin serve` imports it
    main()
