"""The core: domain models, cache and text safety. Imports no UI code (a test enforces it)."""
