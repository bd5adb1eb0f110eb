"""The demo's translators: one per legacy operation, written against docs/modern-services.md.

Data files, read with `turnout.translators.load_translators(DIRECTORY)`; nothing here is
imported. Files whose names start with `_` hold the parts the operations of one service share.
"""

from pathlib import Path

DIRECTORY = Path(__file__).parent
