"""SecretBytes: plaintext returned by the keystore, as ``bytes`` that do not print."""

from __future__ import annotations


class SecretBytes(bytes):
    """Plaintext (a data key, decrypted data, random bytes) as ``bytes``.

    It is a ``bytes`` in every way (compare it, slice it, pass it to a cipher)
    except that ``repr()``, ``str()`` and ``format()`` show only its length, so
    that it does not end up in logs and tracebacks. ``bytes(secret)`` gives
    the plain ``bytes``. Python cannot wipe immutable ``bytes``: drop
    references to it as soon as you are done.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SecretBytes(<redacted: {len(self)} bytes>)"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, format_spec: str) -> str:
        return self.__repr__()
