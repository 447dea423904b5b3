"""TensorFlow's DeepDream tutorial loop, re-created for the peers benchmark. Not a test.

Runs in its own environment (TensorFlow is never a dependency of inceptionism)::

    python3 -m venv .venv-tf && .venv-tf/bin/pip install tensorflow-cpu==2.21.0
    .venv-tf/bin/python benchmarks/peers_tf.py --image img.npy --tiling full

It imports only tensorflow and numpy; ``python -m benchmarks.peers`` starts it and reads
the one JSON line it prints.

What is re-created (from reading ``site/en/tutorials/generative/deepdream.ipynb`` in
tensorflow/docs; written anew here, not copied):

* the model: Keras ``InceptionV3(include_top=False)`` cut at ``mixed3`` and ``mixed5``
  (synthetic weights: ``weights=None``, as the machine has no internet; speed does not
  depend on the values);
* the loss: the sum over the chosen layers of each layer's mean activation;
* ``TiledGradients``: a ``tf.function`` with an input signature of any image size that
  rolls the image by a random shift of up to one tile, takes the gradient tile by tile
  (each tile's gradient with respect to the whole rolled image, summed), rolls the sum
  back and divides it by its standard deviation;
* ``run_deep_dream_with_octaves``: the image scaled to [-1, 1], and for each octave the
  whole (dreamed) image resized to ``base * scale**n`` and ``steps`` updates
  ``img + step_size * gradient``, clipped to [-1, 1].

Two tilings, labelled in the results:

* ``published``: the tutorial as published, which skips the last row and column of tiles
  (``tf.range(0, size, tile)[:-1]``) unless there is only one; on a 1152x864 image with
  512-pixel tiles that dreams on 2 of 6 tiles (about half of the pixels get no gradient).
* ``full``: the same loop with every tile (``tf.range(0, size, tile)``), the comparison
  that covers every pixel, as ours does.

The schedule is the benchmark's (octaves, scale, steps and step size are arguments), the
same for every peer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def vm(field: str) -> float:
    """A /proc/self/status memory figure in MiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True, help=".npy file, (H, W, 3) float32 RGB in [0, 1]")
    parser.add_argument("--tiling", choices=("full", "published"), default="full")
    parser.add_argument("--layers", default="mixed3,mixed5")
    parser.add_argument("--tile-size", type=int, default=512)
    parser.add_argument("--octaves", type=int, default=4)
    parser.add_argument("--octave-scale", type=float, default=1.4)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--step-size", type=float, default=0.01)
    parser.add_argument("--step-repeats", type=int, default=3, help="timed steps at full size")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: TF's default)")
    parser.add_argument("--skip-dream", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.random.set_seed(0)
    photo = np.load(args.image).astype(np.float32)
    t_start = time.perf_counter()
    base_model = tf.keras.applications.InceptionV3(include_top=False, weights=None)
    outputs = [base_model.get_layer(name).output for name in args.layers.split(",")]
    dream_model = tf.keras.Model(inputs=base_model.input, outputs=outputs)
    model_s = time.perf_counter() - t_start
    rss_model = vm("VmRSS")

    def calc_loss(img, model):
        acts = model(tf.expand_dims(img, axis=0))
        if len(outputs) == 1:
            acts = [acts]
        return tf.reduce_sum([tf.math.reduce_mean(a) for a in acts])

    def random_roll(img, maxroll):
        shift = tf.random.uniform(shape=[2], minval=-maxroll, maxval=maxroll, dtype=tf.int32)
        return shift, tf.roll(img, shift=shift, axis=[0, 1])

    skip_last = args.tiling == "published"

    class TiledGradients(tf.Module):
        def __init__(self, model):
            self.model = model

        @tf.function(input_signature=(
            tf.TensorSpec(shape=[None, None, 3], dtype=tf.float32),
            tf.TensorSpec(shape=[2], dtype=tf.int32),
            tf.TensorSpec(shape=[], dtype=tf.int32),
        ))
        def __call__(self, img, img_size, tile_size=512):
            shift, img_rolled = random_roll(img, tile_size)
            gradients = tf.zeros_like(img_rolled)
            xs = tf.range(0, img_size[1], tile_size)
            ys = tf.range(0, img_size[0], tile_size)
            if skip_last:  # the tutorial as published: drop the last tile unless it is the only one
                xs, ys = xs[:-1], ys[:-1]
                if not tf.cast(len(xs), bool):
                    xs = tf.constant([0])
                if not tf.cast(len(ys), bool):
                    ys = tf.constant([0])
            for x in xs:
                for y in ys:
                    with tf.GradientTape() as tape:
                        tape.watch(img_rolled)
                        img_tile = img_rolled[y:y + tile_size, x:x + tile_size]
                        loss = calc_loss(img_tile, self.model)
                    gradients = gradients + tape.gradient(loss, img_rolled)
            gradients = tf.roll(gradients, shift=-shift, axis=[0, 1])
            gradients /= tf.math.reduce_std(gradients) + 1e-8
            return gradients

    get_tiled_gradients = TiledGradients(dream_model)
    tile = tf.constant(args.tile_size)

    def run_deep_dream_with_octaves(img):
        base_shape = tf.shape(img)[:-1]
        img = tf.keras.applications.inception_v3.preprocess_input(img * 255.0)
        for octave in range(-(args.octaves - 1), 1):
            new_size = tf.cast(tf.cast(base_shape, tf.float32) * (args.octave_scale ** octave), tf.int32)
            img = tf.image.resize(img, new_size)
            for _ in range(args.steps):
                gradients = get_tiled_gradients(img, new_size, tile)
                img = img + gradients * args.step_size
                img = tf.clip_by_value(img, -1, 1)
        return (img.numpy() + 1) / 2

    result = {"peer": f"tensorflow tutorial ({args.tiling} tiling)", "tensorflow": tf.__version__,
              "model_s": model_s, "rss_model_mib": rss_model,
              "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads()}
    if not args.skip_dream:
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        dreamed = run_deep_dream_with_octaves(tf.constant(photo))
        result["dream_s"] = time.perf_counter() - t  # includes tracing the tf.function
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        result["dream_cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        result["peak_rss_mib"] = vm("VmHWM")
        result["dream_mean"] = float(dreamed.mean())
    # Steps at full size (warm: the function is traced), each timed on its own.
    img = tf.keras.applications.inception_v3.preprocess_input(tf.constant(photo) * 255.0)
    size = tf.shape(img)[:-1]
    img = img + get_tiled_gradients(img, size, tile) * args.step_size  # warm-up
    times = []
    for _ in range(args.step_repeats):
        t = time.perf_counter()
        img = tf.clip_by_value(img + get_tiled_gradients(img, size, tile) * args.step_size, -1, 1)
        _ = img.numpy()
        times.append(time.perf_counter() - t)
    result["step_s"] = times
    result["peak_rss_after_steps_mib"] = vm("VmHWM")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
