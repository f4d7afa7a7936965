"""Fixtures of the services the connector tests run against."""

from tests.services.mlflow import mlflow_server  # noqa: F401
from tests.services.prometheus import prometheus_service  # noqa: F401
