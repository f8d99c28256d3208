"""Screen photos before a school trust publishes them."""
__version__ = "0.5.1"
