"""petgate: run API Gateway's resource-policy exercise from the command line."""

__version__ = "0.1.0"
