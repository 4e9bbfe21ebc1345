"""Staff and partner accounts: users and tokens, signing in, passwords, rate limits."""
