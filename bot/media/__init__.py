"""Chat uploads: downloaded while the command is handled, checked, and re-hosted where Infinipost can fetch them.

Infinipost only takes public URLs, Slack files are private and Discord attachment links expire, so every upload
is copied to a media store (the bot's own disk, served with signed links, or an S3-compatible bucket) and the
post gets that store's link.
"""

from bot.media.service import MediaService, Rehosted

__all__ = ["MediaService", "Rehosted"]
