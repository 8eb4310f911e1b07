"""The colder tiers of conversations: warm (`warm/`) and cold (`archive/`), and their flags.

Conversations and their messages start hot in silver (full detail, in the full-text index).
Retention moves them to warm tables, compacted and written with a stronger zstd level and
searched by their own path (`lib/search/warm.py`), then to archive tables written with the
strongest level, then deletes them (`lib/tiering.py`). The tables share silver's models.
"""

from __future__ import annotations

import pandera.polars as pa

from seneca_assets.lib.model.tables import (
    CONVERSATIONS,
    HEX_ID,
    MESSAGES,
    ConversationModel,
    MessageModel,
)
from seneca_assets.lib.schemas import TableModel, TableSpec, UtcTime

WARM_ZSTD, COLD_ZSTD = 9, 19
"""Silver is written at zstd level 1; warm at 9 (about 10% smaller, still quick to read), cold
at 19 (smallest, slow to write, read rarely)."""

WARM_CONVERSATIONS = TableSpec(
    "warm/conversations",
    ConversationModel,
    file_bytes=CONVERSATIONS.file_bytes,
    zstd_level=WARM_ZSTD,
)
WARM_MESSAGES = TableSpec("warm/messages", MessageModel, zstd_level=WARM_ZSTD)
ARCHIVE_CONVERSATIONS = TableSpec(
    "archive/conversations", ConversationModel, file_bytes=CONVERSATIONS.file_bytes,
    zstd_level=COLD_ZSTD,
)  # fmt: skip
ARCHIVE_MESSAGES = TableSpec("archive/messages", MessageModel, zstd_level=COLD_ZSTD)

TIER_TABLES: dict[str, tuple[TableSpec, TableSpec]] = {
    "hot": (CONVERSATIONS, MESSAGES),
    "warm": (WARM_CONVERSATIONS, WARM_MESSAGES),
    "cold": (ARCHIVE_CONVERSATIONS, ARCHIVE_MESSAGES),
}
"""Per tier, its conversations and messages tables, hottest first."""


class ConversationFlagModel(TableModel):
    """ops/conversation_flags: a conversation seen to contain an anomaly, which keeps it hotter.

    The anomalies table covers the last 28 days only; tiering records here, each day, the
    conversations that span an anomalous hour, so the flag outlives the anomaly's row.
    """

    conversation_id: str = pa.Field(str_matches=HEX_ID, unique=True, description="Its id.")
    flag: str = pa.Field(description="Why it is kept hotter: `anomaly`.")
    detail: str = pa.Field(description="The anomalous series and hour it spans.")
    flagged_at: UtcTime = pa.Field(description="When it was flagged.")


CONVERSATION_FLAGS = TableSpec("ops/conversation_flags", ConversationFlagModel)
TIERING_TABLES: tuple[TableSpec, ...] = (
    WARM_CONVERSATIONS,
    WARM_MESSAGES,
    ARCHIVE_CONVERSATIONS,
    ARCHIVE_MESSAGES,
    CONVERSATION_FLAGS,
)
