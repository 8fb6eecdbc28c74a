"""Helpers shared by more than one test folder, as plain modules imported by name.

Importable as `support` because pytest puts tests/ on sys.path when it loads tests/conftest.py
(its default "prepend" import mode, for a conftest outside any package)."""
