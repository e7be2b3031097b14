"""A drawing pad in the page (the streamlit-drawable-canvas component: Fabric.js, mouse, pen or finger).

What comes back is ink: an (H, W) array in [0, 1] of how much of each canvas pixel the strokes cover, or None while
nothing is drawn. The component registers itself when imported and can only do so inside a running Streamlit app,
so it is imported here, lazily, and nowhere else.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

SIDE = 280  # canvas pixels a side: ten per MNIST pixel, a finger's width a stroke


def draw_pad(key: str, stroke: int = 22, colour: str = "#ffffff", background=None) -> np.ndarray | None:
    """A SIDE × SIDE canvas, white strokes on black (or `colour` over a background picture, an RGB uint8 array of
    SIDE × SIDE), in the current container; its ink, or None when the canvas is blank. The toolbar above it undoes, redoes and clears."""
    from PIL import Image
    from streamlit_drawable_canvas import st_canvas

    st.space(40)  # the toolbar (undo, redo, clear) shows above the canvas: room for it
    result = st_canvas(stroke_width=stroke, stroke_color=colour,
                       background_color="" if background is not None else "#000000",
                       background_image=None if background is None else Image.fromarray(background),
                       height=SIDE, width=SIDE, drawing_mode="freedraw", return_image_data=True, key=key)
    if result is None or not result.json_data or not result.json_data.get("objects"):
        return None
    if result.image_data is None:
        return None
    rgba = np.asarray(result.image_data, dtype=np.float32)
    ink = rgba[..., 3] / 255.0 if background is not None else rgba[..., :3].mean(-1) / 255.0
    return ink if float(ink.max()) > 0 else None
