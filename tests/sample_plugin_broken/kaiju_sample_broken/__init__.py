"""Broken third-party plugins used by the kernel tests."""
