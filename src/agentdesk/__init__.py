"""agentdesk: a terminal desk for customer-support agents."""

__version__ = "0.1.0"
