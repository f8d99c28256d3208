"""Screen photos before a school trust publishes them."""
__version__ = "0.6.0"
