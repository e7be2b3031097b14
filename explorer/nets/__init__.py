"""Networks conditioned on the noise level, never on a step index: the 2D MLP and the digits U-Net (models), the
class-conditional MLP for guidance (cond_models), the velocity networks of flow matching (velocity), loading them
from pretrained/ as safetensors + JSON (checkpoints), and training them (training).

Imports from explorer: common, diffusion, data, measure.
"""
