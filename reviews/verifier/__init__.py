"""The standalone brief verifier: verify.py is shipped verbatim in every bundle."""
