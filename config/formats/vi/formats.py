# Dates as Vietnamese pages write them: "6 tháng 12, 2026", "15:03 KST, 6 tháng 12, 2026",
# "tháng 4, 2027" (letters escaped: they are not format codes).
DATE_FORMAT = r"j \t\h\á\n\g n, Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = r"H:i T, j \t\h\á\n\g n, Y"
SHORT_DATETIME_FORMAT = "H:i T, d/m/Y"
YEAR_MONTH_FORMAT = r"\t\h\á\n\g n, Y"
MONTH_DAY_FORMAT = r"j \t\h\á\n\g n"
TIME_FORMAT = "H:i"
