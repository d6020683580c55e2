"""JWTTokenService: the signed, short-lived token inside every attendance link."""
from datetime import datetime, timezone

import jwt

from portal.database import MAX_ID
from portal.exceptions import (
    ConfigurationError,
    ExpiredTokenError,
    InvalidTokenError,
    InvalidTokenExpiryError,
    TokenGenerationError,
)

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["student_profile_id", "session_id", "iat", "exp"]
ID_CLAIMS = ["student_profile_id", "session_id"]


class JWTTokenService:
    """Signs with `secret_key`; also accepts `fallback_keys` when decoding, for key rotation."""

    def __init__(self, secret_key: str | None, fallback_keys: list[str] | None = None, clock=None):
        if not secret_key:
            raise ConfigurationError("JWT_SECRET_KEY is not set")
        self._keys = [secret_key, *(fallback_keys or [])]
        self._now = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_config(cls, config) -> "JWTTokenService":
        return cls(config.get("JWT_SECRET_KEY"), config.get("JWT_SECRET_KEY_FALLBACKS"))

    def generate_token(self, student_profile_id: int, session_id: int, expires_at: datetime) -> str:
        if expires_at.tzinfo is None:
            raise InvalidTokenExpiryError("expires_at must be timezone-aware")
        now = self._now()
        if expires_at <= now:
            raise InvalidTokenExpiryError(f"Token expiry {expires_at.isoformat()} is in the past")
        payload = {
            "student_profile_id": student_profile_id,
            "session_id": session_id,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        try:
            return jwt.encode(payload, self._keys[0], algorithm=ALGORITHM)
        except (TypeError, ValueError, jwt.PyJWTError) as exc:
            raise TokenGenerationError(f"Could not sign token: {exc}") from exc

    def generate_tokens(self, student_profile_ids: list[int], session_id: int, expires_at: datetime) -> list[str]:
        """`generate_token` for a whole class at once (one clock reading, one expiry check)."""
        if expires_at.tzinfo is None or expires_at <= self._now():
            raise InvalidTokenExpiryError(f"Token expiry {expires_at.isoformat()} is not in the future")
        issued, expires, key = int(self._now().timestamp()), int(expires_at.timestamp()), self._keys[0]
        try:
            return [
                jwt.encode({"student_profile_id": student_id, "session_id": session_id, "iat": issued, "exp": expires},
                           key, algorithm=ALGORITHM)
                for student_id in student_profile_ids
            ]
        except (TypeError, ValueError, jwt.PyJWTError) as exc:
            raise TokenGenerationError(f"Could not sign token: {exc}") from exc

    def decode_token(self, token: str) -> dict:
        if not isinstance(token, str) or token.count(".") != 2:
            raise InvalidTokenError("Token format invalid")
        for key in self._keys:
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    options={"require": REQUIRED_CLAIMS},
                )
            except jwt.ExpiredSignatureError:
                raise self._expired(token, key) from None
            except jwt.InvalidSignatureError:
                continue  # maybe signed with a fallback key
            except jwt.MissingRequiredClaimError as exc:
                raise InvalidTokenError(f"Token is missing a claim: {exc.claim}") from None
            except jwt.InvalidAlgorithmError:
                raise InvalidTokenError("Token algorithm not allowed") from None
            except jwt.PyJWTError:
                raise InvalidTokenError("Token format invalid") from None
            if not all(isinstance(payload[claim], int) for claim in REQUIRED_CLAIMS):
                raise InvalidTokenError("Token claims have the wrong type")
            if not all(1 <= payload[claim] <= MAX_ID for claim in ID_CLAIMS):
                raise InvalidTokenError("Token ids are out of range")  # a database lookup would overflow
            return payload
        raise InvalidTokenError("Token has been tampered with")

    @staticmethod
    def _expired(token: str, key: str) -> ExpiredTokenError:
        """When a correctly signed token expired, and for which session, so a student can be told."""
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False})
        exp = claims.get("exp")
        session_id, profile_id = (claim if isinstance(claim, int) and 1 <= claim <= MAX_ID else None
                                  for claim in (claims.get("session_id"), claims.get("student_profile_id")))
        return ExpiredTokenError(
            "Token has expired", expired_at=datetime.fromtimestamp(exp, timezone.utc) if isinstance(exp, int) else None,
            session_id=session_id, student_profile_id=profile_id)

    def validate_token(self, token: str) -> bool:
        try:
            self.decode_token(token)
        except (InvalidTokenError, ExpiredTokenError):
            return False
        return True

    def is_token_expired(self, token: str) -> bool:
        try:
            self.decode_token(token)
        except ExpiredTokenError:
            return True
        except InvalidTokenError:
            return False
        return False
