# Dates as Korean pages write them: "2026년 12월 6일", "2026년 12월 6일 15:03 KST", "2027년 4월".
DATE_FORMAT = "Y년 n월 j일"
SHORT_DATE_FORMAT = "Y. n. j."
DATETIME_FORMAT = "Y년 n월 j일 H:i T"
SHORT_DATETIME_FORMAT = "Y. n. j. H:i T"
YEAR_MONTH_FORMAT = "Y년 n월"
MONTH_DAY_FORMAT = "n월 j일"
TIME_FORMAT = "H:i"
