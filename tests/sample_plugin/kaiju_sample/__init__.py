"""A sample third-party plugin: a service class, hook implementations, and broken variants."""
