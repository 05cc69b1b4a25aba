"""petgate's local API Gateway: moto's control plane made faithful, and a real data plane.

Nothing here imports the CLI.
"""
