"""The Textual user interface: renders the core's models, owns no data of its own."""
