"""API keys, roles and the principal a request runs as."""
