"""Accounts and security: passwords and the login cookie, sessions, roles and permissions,
access predicates, headers and sign-in limits, the request-edge guard, HTML sanitising, the
security log.
"""
