"""
Names in complex scripts copy out of our PDFs exactly as they were typed.

WeasyPrint writes one text-layer character per shaped glyph. In Khmer, Myanmar and the Indic
scripts a glyph often stands for several characters (a subscript consonant, a reordered vowel),
so a reader copying "ស្រីពេជ្រ" from the PDF got other characters. PDF's answer is a marked-content
span whose /ActualText holds the true string: readers (poppler's pdftotext, pdf.js, Acrobat)
copy it instead of the glyphs' mapping. `install()` wraps every line of text that holds such a
script in a /Span with its /ActualText. Right-to-left scripts are left alone: readers already
reorder them from the glyphs, and an /ActualText would be reordered once more.

It replaces `weasyprint.draw.text.draw_first_line`, an internal function of the pinned WeasyPrint
(requirements.txt); tests/reviews/test_brief_content.py copies names in five scripts out of a
rendered PDF, so a WeasyPrint upgrade that moves it fails there, not in a brief.
"""

import re

import pydyf

# Scripts whose glyphs do not map one-to-one to characters, written left to right: Devanagari to
# Sinhala, Thai, Lao, Tibetan, Myanmar, Khmer (and its symbols), Tai Le, New Tai Lue.
COMPLEX_SCRIPTS = re.compile("[\u0900-\u0dff\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u1950-\u19ff]")

_installed = False


def actual_text_operand(text: str) -> bytes:
    """The property list of the marked-content span: << /ActualText (text as UTF-16) >>."""
    return pydyf.Dictionary({"ActualText": pydyf.String(text)}).data


def install() -> None:
    """Wrap WeasyPrint's line drawing once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from weasyprint.draw import text as weasy_text

    draw_first_line = weasy_text.draw_first_line

    def draw_first_line_with_actual_text(stream, textbox, *args, **kwargs):
        text = textbox.text
        if not COMPLEX_SCRIPTS.search(text):
            return draw_first_line(stream, textbox, *args, **kwargs)
        stream.begin_marked_content("Span", actual_text_operand(text))
        try:
            return draw_first_line(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()

    weasy_text.draw_first_line = draw_first_line_with_actual_text
    _installed = True
