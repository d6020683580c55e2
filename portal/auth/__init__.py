"""Signing staff in and out, and who may do what.

    routes.py    /login, /login/oidc (and its callback), /login/saml, /saml/acs, /saml/metadata, /logout,
                 /account (change one's own password), /password/forgot, /password/reset
    sign_in.py   checking a password (the same work for every refusal), the sign-in limits
    oidc.py      the university's OpenID Connect provider (Authlib): the redirect and the checked claims
    saml.py      the university's SAML 2.0 identity provider (pysaml2, xmlsec1): the same, as a service provider
    university.py who gets in with a university account (existing staff, or a new lecturer), audited
    access.py    loading the signed-in user; staff_required, admin_required; a session or
                 course the user may see (404 otherwise)
    forms.py     the sign-in and password forms

Accounts themselves: portal/staff/.
"""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import routes  # noqa: E402,F401
