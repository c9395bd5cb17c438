"""The ``predbench`` command as the wheel installs it: the Rust ``main`` the
binary runs, called through the extension module, so that the wheel carries
one build of predbench and ``pip install`` makes both the module and the
command from source."""

import signal
import sys

from ._native import run


def main() -> None:
    """Runs ``predbench`` with this process's arguments and exits with its code."""
    # Ctrl-C ends the command at once, as it ends the binary (Python would
    # wait for the Rust call to return before raising KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(run(sys.argv))


if __name__ == "__main__":
    main()
