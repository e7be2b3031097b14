"""Styles every page needs for WCAG 2.1 AA contrast where Streamlit's own defaults fall short (1.67; found by
axe-core in tests/test_a11y.py). layout.header() injects A11Y_CSS on every page.

- Captions (st.caption, image captions) are the text colour at opacity 0.6: 3.9:1 on white, under the 4.5:1
  that text needs. At 0.75 they are 6:1 on white and 10:1 on the dark theme, still lighter than body text.
- Red text on red tints and dark grounds: the selected option of st.segmented_control / st.pills (the primary
  red on a 10 % tint of it: 4.47:1 in the light theme, 3.6:1 in the dark one) and a slider's value above its
  thumb (3.5:1 in the dark theme). Mixing 35 % of the surrounding text colour into the red (currentColor in
  `color` is the inherited colour: dark in the light theme, light in the dark one) gives 6.5:1 and 5.8:1 for
  the selected option and keeps both red.
"""

ACCENT = "#c53948"  # the red Streamlit's light theme draws these in

A11Y_CSS = f"""<style>
[data-testid="stCaptionContainer"] {{ opacity: 0.75 !important; }}
[data-testid="stButtonGroup"] button[data-selected="true"],
[data-testid="stSliderThumbValue"] {{ color: color-mix(in srgb, {ACCENT} 65%, currentColor) !important; }}
[data-testid="stButtonGroup"] button[data-selected="true"] p,
[data-testid="stSliderThumbValue"] p {{ color: inherit !important; }}
</style>"""
