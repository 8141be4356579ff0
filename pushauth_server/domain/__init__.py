"""The server's domains: enrollment, devices, challenges — each with routes, service and storage."""
