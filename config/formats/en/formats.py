# Dates as English pages write them: "6 December 2026", "6 December 2026, 15:03 KST",
# "December 2026". A date-time names its time zone (the viewer's, ecocycle.middleware).
# Names not set here fall back to Django's own for the language.
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H:i"
