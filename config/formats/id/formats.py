# Dates as Indonesian pages write them: "6 Desember 2026", "6 Desember 2026, 15.03 WIB",
# "April 2027" (hours and minutes with a dot, as Indonesian writes them).
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H.i T"
SHORT_DATETIME_FORMAT = "j M Y, H.i T"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H.i"
