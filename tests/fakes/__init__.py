"""In-process stand-ins for external services, for tests that must not reach the internet."""
