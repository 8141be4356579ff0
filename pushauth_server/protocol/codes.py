"""Number-matching codes (NIST SP 800-63B-4 §3.1.3.1).

Drawn from a CSPRNG, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

MIN_DIGITS = 2
MAX_DIGITS = 8
DEFAULT_DIGITS = 6


def new_verification_code(digits: int = DEFAULT_DIGITS) -> str:
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be between {MIN_DIGITS} and {MAX_DIGITS}")
    return str(secrets.randbelow(10**digits)).zfill(digits)


def codes_match(expected: str, typed: str) -> bool:
    # Constant time, so response timing does not reveal how many leading digits were right.
    return hmac.compare_digest(expected.encode("utf-8"), typed.encode("utf-8"))
