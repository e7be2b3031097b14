"""Small images: digits noised and sampled, memorisation, inpainting, variations, super-resolution, sketch to digit,
and your own picture."""
import streamlit as st

from explorer.ui import controls, layout, state
from explorer.ui.views import image_apps, image_views, mnist_views, picture_views

SECTIONS = {"forward": "Forward noising", "reverse": "Reverse sampling", "inpaint": "Inpainting",
            "variations": "Variations", "superres": "Super-resolution", "sketch": "Sketch to digit",
            "picture": "Your picture", "guidance": "Class & guidance (MNIST)"}

layout.header(
    "Images",
    "Diffusion on pictures, where most people meet it: real handwritten MNIST digits at 28 × 28 with their classes, "
    "scikit-learn's 8 × 8 digits (the fast option; pixels scaled to [−1, 1]) and a picture of your own. Every pixel "
    "is one coordinate of x, noised exactly like the 2D points. "
    "All images use one grey scale: −1 black, +1 white; noised values beyond ±1 are clipped for display.")

st.sidebar.header("Schedule")
sched = controls.schedule_controls(default_kind="cosine", default_T=250, T_max=1000)
with layout.friendly_errors("build this schedule"):
    sched.build()
st.sidebar.header("Digits")
pick = controls.digits_controls()

if layout.presenting():  # one line on a projector (the radio takes two), so the digits sit above the fold
    section = state.choice("Show", "view", list(SECTIONS), "forward", where=st.columns([2, 3])[0],
                           format_func=SECTIONS.get)
else:
    section = state.choice("Show", "view", list(SECTIONS), "forward", widget="radio", horizontal=True,
                           format_func=SECTIONS.get)
section = section or "forward"

VIEWS = {"forward": image_views.forward_view, "reverse": image_views.reverse_view,
         "inpaint": image_views.inpainting_view, "variations": image_views.variations_view,
         "superres": lambda sched, pick: image_apps.super_resolution_view(sched, pick.seed, pick.data),
         "sketch": lambda sched, pick: image_apps.sketch_view(sched, pick.seed, pick.data),
         "picture": picture_views.picture_view,
         "guidance": lambda sched, pick: mnist_views.guidance_view(pick.seed)}
VIEWS[section](sched, pick)

layout.footer()
