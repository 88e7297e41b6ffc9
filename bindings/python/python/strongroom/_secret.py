"""SecretBytes: plaintext returned by the keystore, as ``bytes`` that do not print."""

from __future__ import annotations

from typing import Any, NoReturn


class SecretBytes(bytes):
    """Plaintext (a data key, decrypted data, random bytes) as ``bytes``.

    It is a ``bytes`` in every way (compare it, slice it, pass it to a cipher)
    except that ``repr()``, ``str()`` and ``format()`` show only its length, so
    that it does not end up in logs and tracebacks. ``bytes(secret)`` gives
    the plain ``bytes``. Python cannot wipe immutable ``bytes``: drop
    references to it as soon as you are done.

    It is not pickled (``TypeError``), as pyca/cryptography's private keys
    are not, so that a process pool, a result backend or a disk cache does
    not receive a data key or decrypted data in clear unasked; a ``dict`` or
    result holding one is refused with it. ``copy.copy`` and
    ``copy.deepcopy`` return the object itself, as for ``bytes`` (it is
    immutable; no second copy of the plaintext is made).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SecretBytes(<redacted: {len(self)} bytes>)"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, format_spec: str) -> str:
        return self.__repr__()

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(
            "cannot pickle 'SecretBytes': it is plaintext, which a pickle stores "
            "in clear; pickle bytes() of it explicitly if it must cross a "
            "process boundary"
        )

    def __reduce__(self) -> NoReturn:
        self.__reduce_ex__(0)

    def __copy__(self) -> SecretBytes:
        return self

    def __deepcopy__(self, memo: Any) -> SecretBytes:
        return self
