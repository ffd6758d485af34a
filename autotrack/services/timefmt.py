"""Durations and times in words people read in emails and on pages."""


def duration_words(delta):
    """'2 days 3 hours', '3 hours 12 minutes', '5 minutes', 'less than a minute'."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = []
    for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if value:
            parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts[:2]) if parts else "less than a minute"
