"""The store: tables, engine and sessions, idempotent upserts, frame loaders, migrations, demo."""
