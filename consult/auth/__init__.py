"""Staff accounts, roles, password and TOTP login."""
