"""The error of the Colab converter."""

__all__ = ["ConversionError"]


class ConversionError(ValueError):
    """A construct the converter does not know (the message names the page and the construct)."""
