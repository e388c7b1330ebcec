"""
The web server's access log, without the reporter: for intake pages the client address and
every request header (user agent, referrer, forwarded-for) are written as "-".

Used by the Procfile: `gunicorn --logger-class intake.gunicorn.AccessLogger ...`.
"""

from gunicorn.glogging import Logger

from .privacy import is_intake_path


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if is_intake_path(environ.get("PATH_INFO", "")):
            for key in list(atoms):
                if key in {"h", "a", "f", "u"} or key.endswith("}i") or key.endswith("}e"):
                    atoms[key] = "-"
        return atoms
