"""The Images page's "Your picture": a photograph of your own (or scikit-learn's sample) noised step by step, each
channel of each pixel on its own, and the same picture reduced to the digit set's grey square and shown to the digits
network, whose guess x̂₀ the set's classifier reads."""
from __future__ import annotations

import streamlit as st

from explorer.data import images
from explorer.draw import figures, rasters
from explorer.ui import layout, state, uploads
from explorer.ui.settings import DigitsChoice, ScheduleChoice
from explorer.ui.views import digit_sets as ds, image_apps, image_runs as ir
from explorer.ui.views.image_apps import show
from explorer.ui.views.image_views import animation_block


def picture_view(sched: ScheduleChoice, pick: DigitsChoice) -> None:
    upload = uploads.uploader(f"A PNG or JPEG picture (resized to at most {images.MAX_SIDE} pixels; colour kept)",
                              f"PNG or JPEG, up to {images.MAX_UPLOAD_PIXELS // 1_000_000} megapixels",
                              images.MAX_UPLOAD_BYTES, key="img_upload")
    raw, name = ir.sample_picture(), "scikit-learn's sample photograph"
    if upload is not None:
        try:
            ir.load_picture(upload.getvalue())
            raw, name = upload.getvalue(), upload.name
        except ValueError as err:
            st.error(f"Cannot use {upload.name}: {err} Showing the sample photograph instead.",
                     icon=":material/error:")
    digit_set = ds.SETS[pick.data]
    st.caption(f"Data: {name}; below, as the {digit_set.label} network sees it.")
    pic = ir.forward_picture(raw, sched, pick.seed)
    for note in pic["notes"]:
        st.info(note, icon=":material/info:")

    @layout.live_fragment
    def picture_frame(pic: dict, sched: ScheduleChoice, name: str, raw: bytes) -> None:
        C, H, W = pic["x"].shape
        s = sched.build()
        t = state.slider("t", "pic_t", 0, s.T, min(s.T, max(1, s.T // 5)))
        x_t = ir.picture_at(pic, s, t)
        left, right = st.columns([3, 2], gap="large")
        with left:
            show(x_t, f"{name} at t = {t}: {W} × {H} pixels, {'colour' if C == 3 else 'grey'}", 3 * W)
        with right:
            layout.chart(st, figures.pixel_histogram(x_t.ravel(), f"Pixel values at t = {t}"), width="stretch",
                            key="pic_hist")
            st.metric("Signal √ᾱ_t / noise √(1−ᾱ_t)",
                      f"{s.sqrt_alphas_cumprod[t]:.3f} / {s.sqrt_one_minus_alphas_cumprod[t]:.3f}")
            st.download_button("PNG of this frame", rasters.png_bytes(images.picture(x_t, 3 * W)),
                               f"picture_t{t}.png", "image/png", key="dl_pic_png", icon=":material/download:")
        side = digit_set.side
        st.markdown(f"**Through the digits network.** Your picture reduced to {side} × {side} grey and framed as the "
                    f"{image_apps.digit_set_name(pick.data)} were, noised to the same t, and the network's guess x̂₀ "
                    "of the clean image (clipped to [−1, 1]): its mean of what x₀ could have been, for a network that "
                    "has only ever seen digits.")
        with layout.friendly_errors("show the picture to the digits network"):
            seen = ir.picture_as_digit(raw, sched, t, pick.seed, pick.data)
        a, b, c, d = st.columns(4, gap="medium")
        with a:
            show(seen["small"], f"{side} × {side} grey", 150)
        with b:
            show(seen["x_t"], f"x_t at t = {t}", 150)
        with c:
            show(seen["x0"], "the network's x̂₀" if t else "t = 0: the picture itself (no network call)", 150)
        if seen["inverted"]:
            st.caption("Mostly light: inverted, so the strokes are white on black like the digits.")
        d.metric("x̂₀ read as", f"{seen['pred']} ({seen['conf']:.0%})", help=f"By {digit_set.classifier}.")
        d.metric("x̂₀ to your picture / to the nearest digit", f"{seen['to_picture']:.2f} / {seen['to_digit']:.2f}",
                 help=f"Pixel distances (L2) from x̂₀ to the {side} × {side} picture and to the nearest of the "
                      f"{digit_set.size:,} training digits. Two training digits picked at random are typically "
                      f"{ds.pair_distance(pick.data):.2f} apart.")

    picture_frame(pic, sched, name, raw)
    animation_block(pic["gif"], "x_t from t = 0 to T",
                    "Each channel of each pixel gets noise of its own. That noise is white — as strong at fine "
                    "scales as at coarse ones — while most of a picture's power sits in its broad shapes and smooth "
                    "colour areas, so fine detail drowns first and the broad shapes last. The animation draws every frame with one noise image ε, "
                    "x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε, so the picture dissolves smoothly; each frame has exactly the "
                    "distribution q(x_t | x_0).", "picture_forward.gif", "dl_pic_gif", widths=(3, 2))
