"""`python -m trackproof`: the same as the `trackproof` command (cli.entry, which ends the process)."""

from .cli import entry

if __name__ == "__main__":
    entry()
