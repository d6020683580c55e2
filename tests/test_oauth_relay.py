"""Signing in to the relay with OAuth 2.0 (SASL XOAUTH2), as Microsoft 365 and Google want:
a real token endpoint on loopback (Authlib's authorization server), a relay that checks
every bearer token against it, real Redis, real RQ workers."""
import logging
import time
from collections import Counter

import pytest

from portal.delivery import pause
from portal.delivery.connections import POOL
from portal.delivery.oauth import AccessTokens, TokenUnavailable
from portal.delivery.relays import Relay
from portal.extensions import db
from portal.models import DeliveryAttempt
from tests.factories import create_session, emails_of, make_students, statuses
from tests.oauth_server import TokenEndpoint, XOAuth2Handler
from tests.smtp_servers import SMTPServer, free_port
from tests.support import point_mail_at, queueing_worker

pytestmark = pytest.mark.integration

MAILBOX = "attendance@example.edu"


def use_oauth(app, endpoint: TokenEndpoint, client, refresh_token: str | None = None, url: str | None = None):
    app.config.update(MAIL_AUTH="xoauth2", MAIL_USERNAME=MAILBOX, MAIL_OAUTH_TOKEN_URL=url or endpoint.url,
                      MAIL_OAUTH_CLIENT_ID=client.client_id, MAIL_OAUTH_CLIENT_SECRET=client.client_secret,
                      MAIL_OAUTH_SCOPE=client.scope, MAIL_OAUTH_REFRESH_TOKEN=refresh_token)


@pytest.fixture
def endpoint():
    with TokenEndpoint() as running:
        yield running


def oauth_relay(app, endpoint, **handler) -> SMTPServer:
    server = SMTPServer(XOAuth2Handler(endpoint=endpoint, **handler), xoauth2=True)
    point_mail_at(app, server.port)
    return server


def send_class(app, course, count: int, prefix: str):
    students = make_students(course.program, count, prefix=prefix)
    session, _ = create_session(course)
    queueing_worker(app)()
    POOL.close_idle(0)  # the next class opens new connections, and signs in again
    return session, students


def test_one_token_signs_in_every_connection_and_a_new_one_comes_before_it_expires(app, course):
    endpoint = TokenEndpoint(expires_in=3)  # kept for 80% of its life: 2 s
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    app.config.update(MAIL_CONNECTIONS=4)
    with endpoint, oauth_relay(app, endpoint, latency=0.01) as relay:
        first, students = send_class(app, course, 20, "first")
        assert statuses(first.id) == {"sent": 20}
        assert endpoint.requests == ["client_credentials"]  # one token for the four connections
        tokens = {token for _, token, accepted in relay.handler.sign_ins if accepted}
        assert len(relay.handler.sign_ins) == 4 and len(tokens) == 1
        time.sleep(2.2)  # the shared token is now too close to its end to be used
        second, more = send_class(app, course, 10, "second")
    assert statuses(second.id) == {"sent": 30}  # the program's 20 and 10 more, each its own email
    assert endpoint.requests == ["client_credentials"] * 2
    assert len({token for _, token, accepted in relay.handler.sign_ins if accepted}) == 2
    assert all(accepted for _, _, accepted in relay.handler.sign_ins)  # never a refused sign-in on the way
    assert Counter(relay.handler.recipients) >= Counter(emails_of(students + more))


def test_a_token_revoked_early_is_replaced_at_once(app, course, endpoint):
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with oauth_relay(app, endpoint) as relay:
        send_class(app, course, 3, "first")
        endpoint.revoke_tokens()  # an admin signed the app out everywhere; its credentials still work
        second, _ = send_class(app, course, 3, "second")
    assert statuses(second.id) == {"sent": 6}
    assert [accepted for _, _, accepted in relay.handler.sign_ins] == [True, False, True]
    assert endpoint.requests == ["client_credentials"] * 2
    assert not pause.is_paused(app.extensions["redis"], Relay.of(app.config))


def test_a_revoked_client_pauses_the_relay_and_no_email_fails(app, course, endpoint):
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with oauth_relay(app, endpoint) as relay:
        send_class(app, course, 3, "first")
        endpoint.revoke_client(client.client_id)  # the app registration's secret was deleted
        second, _ = send_class(app, course, 5, "second")
        assert statuses(second.id) == {"pending": 8}  # every email waits, none failed
        state = pause.state(app.extensions["redis"], Relay.of(app.config))
        assert state is not None and state.by == pause.BY_THE_PORTAL
        assert f"the OAuth token endpoint {endpoint.url} refused the portal (invalid_client" in state.reason
        assert db.session.query(DeliveryAttempt).filter_by(outcome="login refused").count() == 1

        endpoint.clients[client.client_id].revoked = False  # a new secret was put in place
        from portal.delivery import control

        assert control.resume_when_the_relay_answers(interval=1) == 8  # the probe signs in and resumes
        queueing_worker(app)()
    assert statuses(second.id) == {"sent": 8}
    assert relay.handler.sign_ins[-1][2] is True


def test_a_relay_refusing_a_fresh_token_pauses_with_that_reason(app, course, endpoint):
    """The mailbox may not send (no SendAs permission for the app, say): a new token changes nothing."""
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with oauth_relay(app, endpoint, mailbox="someone-else@example.edu") as relay:
        session, _ = send_class(app, course, 4, "class")
    assert statuses(session.id) == {"pending": 4}
    state = pause.state(app.extensions["redis"], Relay.of(app.config))
    assert state and f"Mail server 127.0.0.1:{relay.port} refused the OAuth token (535 5.7.3" in state.reason
    assert len(relay.handler.sign_ins) == 2 and len(endpoint.requests) == 2  # tried once more with a new token


def test_an_unreachable_token_endpoint_pauses_the_relay_with_that_reason(app, course, endpoint):
    client = endpoint.add_client()
    nowhere = f"http://127.0.0.1:{free_port()}/token"
    use_oauth(app, endpoint, client, url=nowhere)
    with oauth_relay(app, endpoint) as relay:
        session, _ = send_class(app, course, 2, "class")
    assert statuses(session.id) == {"pending": 2} and relay.handler.sign_ins == []
    state = pause.state(app.extensions["redis"], Relay.of(app.config))
    assert state and f"the OAuth token endpoint {nowhere} could not be reached" in state.reason


def test_the_refresh_token_grant_follows_the_providers_rotation(app, course):
    """Google's way (or any provider's): a refresh token from a person's consent; this endpoint
    rotates it on every use, so the second refresh must use the token the first one returned."""
    endpoint = TokenEndpoint(expires_in=2)
    client = endpoint.add_client(scope="https://mail.google.com/")
    use_oauth(app, endpoint, client, refresh_token=endpoint.grant_refresh_token(client.client_id))
    with endpoint, oauth_relay(app, endpoint) as relay:
        send_class(app, course, 2, "first")
        time.sleep(1.8)
        second, _ = send_class(app, course, 2, "second")
    assert statuses(second.id) == {"sent": 4}
    assert endpoint.requests == ["refresh_token", "refresh_token"]
    assert [accepted for _, _, accepted in relay.handler.sign_ins] == [True, True]


def test_workers_share_one_token_through_redis(app, endpoint):
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with app.app_context():
        relay = Relay.of(app.config)
        first = AccessTokens(app.extensions["redis"], relay, app.config["SECRET_KEY"])
        second = AccessTokens(app.extensions["redis"], relay, app.config["SECRET_KEY"])  # another worker
        token = first.get()
        assert second.get() == token and endpoint.requests == ["client_credentials"]
        stored = app.extensions["redis"].get(relay.key("oauth-token"))
        assert stored and token.encode() not in stored  # a copy of Redis holds no usable token
        assert second.renew(token) != token and first.get() == second.get()
        assert endpoint.requests == ["client_credentials"] * 2


def test_tokens_and_secrets_never_reach_the_logs(app, course, endpoint, caplog):
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with caplog.at_level(logging.DEBUG), oauth_relay(app, endpoint):
        send_class(app, course, 2, "class")
        endpoint.revoke_client(client.client_id)
        send_class(app, course, 2, "more")
    tokens = [token for token in endpoint.tokens]
    server_side = ("authlib.oauth2.rfc6749", "authlib.integrations.flask_oauth2", "werkzeug")  # the test's endpoint
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith(server_side))
    assert "OAuth token for relay default fetched" in logged and "refused the portal" in logged
    assert client.client_secret not in logged and not any(token in logged for token in tokens)


def test_a_token_endpoint_that_refuses_says_so_in_one_line(app, endpoint):
    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    app.config["MAIL_OAUTH_CLIENT_SECRET"] = "wrong-secret"
    with app.app_context(), pytest.raises(TokenUnavailable) as refused:
        AccessTokens.for_relay(Relay.of(app.config)).get()
    assert str(refused.value).startswith(f"the OAuth token endpoint {endpoint.url} refused the portal (invalid_client")
    assert "wrong-secret" not in str(refused.value) and "\n" not in str(refused.value)


def test_the_seeds_sender_signs_in_with_oauth_too(app, endpoint):
    """EmailSenderService.send_attendance_notification through a relay that takes XOAUTH2 only."""
    from portal.delivery.messages import SAMPLE_EMAIL_CONTEXT
    from portal.services.email_sender_service import EmailSenderService

    client = endpoint.add_client()
    use_oauth(app, endpoint, client)
    with oauth_relay(app, endpoint) as relay, app.app_context():
        assert EmailSenderService.from_app(app).send_attendance_notification("amina@example.edu", SAMPLE_EMAIL_CONTEXT)
    assert relay.handler.recipients == ["amina@example.edu"] and relay.handler.sign_ins[0][2] is True
