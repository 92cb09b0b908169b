"""The ``machi`` command."""
