"""Training a StyleGAN2 from scratch (used for the bundled demo model; works for any image folder).

The generator being trained is a :class:`large_stylegan2.network.StyleGAN2Generator` whose weight
dict is made trainable, so a trained model is saved with NVIDIA's names and loads anywhere a
released checkpoint does.  See :mod:`.loop` for the algorithm and :mod:`.discriminator` for D.
"""
