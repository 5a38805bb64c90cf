"""`seekworld demo`: a Gradio page (extra `demo`). Upload a photo, watch the reasoning stream, get the
answer with the region named in English and Chinese. See `seekworld.demo.app`."""
