"""casearch: bilingual (Japanese + English) document search on Whoosh and fugashi.

Library first: ``corpus`` reads files, ``analysis`` turns text into tokens, ``index``
builds and updates the Whoosh index, ``search`` answers queries with plain dataclasses;
``web`` (Flask) and ``cli`` (click) are thin layers over them.
"""

__all__ = ["__version__"]
__version__ = "0.3.0"
