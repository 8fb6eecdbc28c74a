"""SHA-256 for the hashes the desk needs before its first frame, without `import hashlib`.

Importing hashlib loads OpenSSL's bindings (`_hashlib`): 1.3-4.5 ms of the agent's wait at
start-up (measured with `-X importtime` in tmux), for two short hashes (the start customer's
shard folder, the kept styles' file name). CPython's own SHA-256 gives the same digests;
hashlib's is used where that module is not there.
"""

from __future__ import annotations

try:
    from _sha2 import sha256  # CPython 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        from hashlib import sha256

__all__ = ["sha256"]
