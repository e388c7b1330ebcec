"""
One date format per language (FORMAT_MODULE_PATH): a page shows every date the same way, and
templates name the format (`|date:"SHORT_DATE_FORMAT"`) instead of spelling one out.
"""
