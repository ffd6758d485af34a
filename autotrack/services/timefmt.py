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


def _hours_and_minutes(minutes, adjective=""):
    """'25 hours 10 minutes', with `adjective` before the first unit ('25 working hours 10 minutes')."""
    hours, minutes = divmod(int(minutes), 60)
    parts = [
        f"{value} {unit}{'' if value == 1 else 's'}" for value, unit in ((hours, "hour"), (minutes, "minute")) if value
    ]
    if not parts:
        return "less than a minute"
    if adjective:
        parts[0] = parts[0].replace(" ", f" {adjective} ", 1)
    return " ".join(parts)


def hours_words(delta):
    """Working time in hours and minutes, never days ('25 hours 10 minutes'): a day of working
    time is not 24 hours, so '1 day' would mislead."""
    return _hours_and_minutes(abs(delta.total_seconds()) // 60)


def target_words(minutes, *, always, working_day_minutes=None):
    """An SLA target as people should read it: on business hours in working hours, with what
    that is in working days when every working day is as long ('24 working hours (3 working
    days)', '10 working hours (1 working day 2 hours)', '4 working hours'); around the clock in
    hours ('24 hours', '15 minutes')."""
    if always:
        return _hours_and_minutes(minutes)
    text = _hours_and_minutes(minutes, "working")
    if working_day_minutes and minutes >= working_day_minutes:
        days, rest = divmod(int(minutes), working_day_minutes)
        in_days = f"{days} working day{'' if days == 1 else 's'}"
        text += f" ({in_days} {_hours_and_minutes(rest)})" if rest else f" ({in_days})"
    return text
