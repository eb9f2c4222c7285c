"""A sample package whose XDR modules are generated at build time."""
