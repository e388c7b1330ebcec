"""Sign-in helpers shared by the login form and django-axes."""


def lockout_username(request, credentials: dict | None) -> str:
    """
    The account a sign-in attempt is for, as django-axes counts it: the email address typed,
    in lower case, so that changing its case does not reset the count.
    """
    credentials = credentials or {}
    name = credentials.get("username") or credentials.get("email")
    if name is None and request is not None:
        name = request.POST.get("username", "")
    return (name or "").strip().lower()
