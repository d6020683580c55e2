import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from portal.exceptions import (
    ConfigurationError,
    ExpiredTokenError,
    InvalidTokenError,
    InvalidTokenExpiryError,
)
from portal.services.jwt_service import JWTTokenService

KEY = "k" * 64
OTHER_KEY = "o" * 64


def soon(minutes=60) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


@pytest.fixture
def service():
    return JWTTokenService(KEY)


def forge(payload: dict, key=KEY, algorithm="HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def valid_payload(**overrides) -> dict:
    now = int(datetime.now(timezone.utc).timestamp())
    return {"student_profile_id": 7, "session_id": 3, "iat": now, "exp": now + 3600, **overrides}


def test_round_trip_carries_exactly_the_four_claims(service):
    expires_at = soon()
    token = service.generate_token(123, 456, expires_at)
    payload = service.decode_token(token)
    assert set(payload) == {"student_profile_id", "session_id", "iat", "exp"}
    assert payload["student_profile_id"] == 123 and payload["session_id"] == 456
    assert payload["exp"] == int(expires_at.timestamp())
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert service.validate_token(token) is True
    assert service.is_token_expired(token) is False


def test_tampered_payload_is_invalid(service):
    header, payload, signature = service.generate_token(1, 2, soon()).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["student_profile_id"] = 999
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    token = f"{header}.{forged}.{signature}"
    with pytest.raises(InvalidTokenError, match="tampered"):
        service.decode_token(token)
    assert service.validate_token(token) is False


def test_alg_none_is_invalid(service):
    token = jwt.encode(valid_payload(), None, algorithm="none")
    with pytest.raises(InvalidTokenError):
        service.decode_token(token)


def test_other_hmac_algorithm_is_invalid(service):
    with pytest.raises(InvalidTokenError, match="algorithm"):
        service.decode_token(forge(valid_payload(), algorithm="HS512"))


def test_wrong_key_is_invalid(service):
    with pytest.raises(InvalidTokenError, match="tampered"):
        service.decode_token(forge(valid_payload(), key=OTHER_KEY))


@pytest.mark.parametrize("claim", ["student_profile_id", "session_id", "iat", "exp"])
def test_missing_claim_is_invalid(service, claim):
    payload = valid_payload()
    del payload[claim]
    with pytest.raises(InvalidTokenError):
        service.decode_token(forge(payload))


def test_claim_of_wrong_type_is_invalid(service):
    with pytest.raises(InvalidTokenError):
        service.decode_token(forge(valid_payload(student_profile_id="7")))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "not-a-token.at.all", None, 42])
def test_malformed_is_invalid(service, token):
    with pytest.raises(InvalidTokenError, match="format"):
        service.decode_token(token)
    assert service.validate_token(token) is False
    assert service.is_token_expired(token) is False


def test_expired_token(service):
    now = int(datetime.now(timezone.utc).timestamp())
    token = forge(valid_payload(iat=now - 7200, exp=now - 60))
    with pytest.raises(ExpiredTokenError):
        service.decode_token(token)
    assert service.validate_token(token) is False
    assert service.is_token_expired(token) is True


def test_expired_token_with_wrong_key_is_invalid_not_expired(service):
    now = int(datetime.now(timezone.utc).timestamp())
    token = forge(valid_payload(iat=now - 7200, exp=now - 60), key=OTHER_KEY)
    with pytest.raises(InvalidTokenError):
        service.decode_token(token)
    assert service.is_token_expired(token) is False


def test_fallback_key_decodes_but_never_signs():
    old = JWTTokenService(OTHER_KEY)
    token = old.generate_token(5, 6, soon())
    rotated = JWTTokenService(KEY, fallback_keys=[OTHER_KEY])
    assert rotated.decode_token(token)["student_profile_id"] == 5
    new_token = rotated.generate_token(5, 6, soon())
    with pytest.raises(InvalidTokenError):
        JWTTokenService(OTHER_KEY).decode_token(new_token)
    with pytest.raises(InvalidTokenError):
        JWTTokenService(KEY).decode_token(token)


def test_past_expiry_is_refused(service):
    with pytest.raises(InvalidTokenExpiryError):
        service.generate_token(1, 2, datetime.now(timezone.utc) - timedelta(seconds=1))


def test_naive_expiry_is_refused(service):
    with pytest.raises(InvalidTokenExpiryError):
        service.generate_token(1, 2, datetime.now() + timedelta(hours=1))


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_secret_is_a_configuration_error(secret):
    with pytest.raises(ConfigurationError):
        JWTTokenService(secret)


def test_from_config_reads_key_and_fallbacks():
    old_token = JWTTokenService(OTHER_KEY).generate_token(1, 2, soon())
    service = JWTTokenService.from_config({"JWT_SECRET_KEY": KEY, "JWT_SECRET_KEY_FALLBACKS": [OTHER_KEY]})
    assert service.validate_token(old_token)
