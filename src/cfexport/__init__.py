"""cfexport: a career framework kept as Jekyll pages, exported to the documents HR hands out."""

__version__ = "0.1.0"
