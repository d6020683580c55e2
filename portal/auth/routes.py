from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal import audit
from portal.auth import bp, oidc, saml, sign_in, university
from portal.auth.access import staff_required
from portal.auth.forms import ChangePasswordForm, ForgotPasswordForm, LanguageForm, LoginForm, ResetPasswordForm
from portal.errors import status_of
from portal.exceptions import SignInRefusedError, ValidationError
from portal.extensions import csrf, limiter
from portal.pages import form_page
from portal.staff import account_emails, accounts, password_links


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no `//` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               error_message=lambda: _("Too many sign-in attempts from your network. Wait a minute, then try again."))
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=sign_in.account_key, deduct_when=sign_in.failed, error_message=sign_in.lockout_message)
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_CEILING"], methods=["POST"],
               key_func=sign_in.account_anywhere_key, deduct_when=sign_in.failed,
               error_message=sign_in.lockout_message)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("sessions.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in.authenticate(form.email.data, form.password.data)
        except SignInRefusedError as refused:
            audit.record_now(None, "sign_in.refused", sign_in.typed_email(), "with a password",
                             by=audit.THE_PORTAL)
            flash(str(refused), "danger")
            return render_template("auth/login.html", form=form), status_of(refused)
        audit.record_now(user, "sign_in.password", user.email, "with a password")
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("sessions.index"))
    return form_page("auth/login.html", form)


@bp.route("/login/oidc")
def oidc_login():
    """To the university's sign-in page; back at `oidc_callback`, then to `next` (a path here)."""
    if not oidc.configured():
        return redirect(url_for(".login"))
    session["sign_in_next"] = safe_next(request.args.get("next"))
    try:
        return oidc.start(current_app.config["PORTAL_BASE_URL"].rstrip("/") + url_for(".oidc_callback"))
    except SignInRefusedError as refused:
        return _refused(refused)


@bp.route("/login/oidc/callback")
def oidc_callback():
    if not oidc.configured():
        return redirect(url_for(".login"))
    try:
        user = university.staff_for(oidc.finish(), via="OpenID Connect")
    except SignInRefusedError as refused:
        return _refused(refused)
    login_user(user)
    return redirect(session.pop("sign_in_next", None) or url_for("sessions.index"))


@bp.route("/saml/metadata")
def saml_metadata():
    """This portal as a SAML service provider, for the identity provider's administrator."""
    if not saml.configured():
        return redirect(url_for(".login"))
    return Response(saml.metadata(), mimetype="application/samlmetadata+xml")


@bp.route("/login/saml")
def saml_login():
    if not saml.configured():
        return redirect(url_for(".login"))
    try:
        return redirect(saml.start(safe_next(request.args.get("next"))))
    except SignInRefusedError as refused:
        return _refused(refused)


@bp.route("/saml/acs", methods=["POST"])
@csrf.exempt  # the provider posts here: the request it answers and its signature are what is checked
def saml_acs():
    if not saml.configured():
        return redirect(url_for(".login"))
    try:
        claims, next_path = saml.finish(request.form.get("SAMLResponse"))
        user = university.staff_for(claims, via="SAML")
    except SignInRefusedError as refused:
        return _refused(refused)
    login_user(user)
    return redirect(safe_next(next_path) or url_for("sessions.index"), 303)


def _refused(refused: SignInRefusedError):
    flash(str(refused), "danger")
    return render_template("auth/login.html", form=LoginForm()), status_of(refused)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"], methods=["POST"],
               error_message=lambda: _("Too many requests from your network. Wait a while, then try again."))
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=lambda: "reset:" + sign_in.typed_email(),
               error_message=lambda: _("A link was asked for this address several times already: use the newest "
                                       "email, or wait an hour."))
def forgot_password():
    """Ask for a reset link. The answer, and the work behind it (one job on the queue), are the same
    whether or not the account exists: the job finds out, and sends only to an active staff account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        account_emails.enqueue(password_links.RESET, form.email.data)
        return render_template("auth/forgot_password.html", form=None, asked=form.email.data.strip())
    return form_page("auth/forgot_password.html", form, asked=None)


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               error_message=lambda: _("Too many attempts. Wait a minute, then try again."))
def reset_password():
    """Choose a password through an emailed link (an invitation or a reset). The link works once;
    it does not sign anyone in: the person then signs in with the new password."""
    token = request.args.get("token")
    try:
        user, purpose = password_links.check(token)
    except password_links.LinkRefused as refused:
        return render_template("auth/link_refused.html", expired=str(refused) == "expired"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password_with_link(user, form.password.data)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is set, and any other sign-in of your account has ended. Sign in with it now."),
                  "success")
            return redirect(url_for(".login"), 303)
    return form_page("auth/reset_password.html", form, user=user, purpose=purpose)


@bp.route("/logout", methods=["POST"])
@staff_required
def logout():
    # CSRFProtect has already checked the token of this POST. Ending the sessions server-side
    # means a copy of this cookie stops working too (and so do this account's other sign-ins).
    accounts.end_sessions(current_user)
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@staff_required
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               error_message=lambda: _("Too many attempts. Wait a minute, then try again."))
def account():
    """Staff change their own password; their other signed-in sessions end, this one goes on."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_own_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            login_user(current_user._get_current_object())  # the new session version, for this browser only
            flash(_("Password changed. You stay signed in here; every other sign-in of your account has ended."),
                  "success")
            return redirect(url_for(".account"), 303)
    return form_page("auth/account.html", form, language_form=LanguageForm(language=current_user.language or ""))


@bp.route("/account/language", methods=["POST"])
@staff_required
def account_language():
    """Staff choose the language of their pages and account emails (empty: the browser's)."""
    form = LanguageForm()
    if form.validate_on_submit():
        try:
            accounts.choose_language(current_user, form.language.data)
        except ValidationError as exc:
            exc.apply_to(form)
        else:
            flash(_("Language saved."), "success")
            return redirect(url_for(".account"), 303)
    return form_page("auth/account.html", ChangePasswordForm(formdata=None), language_form=form)


@bp.route("/")
def home():
    return redirect(url_for("sessions.index") if current_user.is_authenticated else url_for("auth.login"))
