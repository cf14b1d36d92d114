"""Authentication: argon2 passwords, random bearer tokens, sessions with idle and absolute timeouts."""
