"""Metrics (Prometheus text format), JSON logs and the request id they share."""
