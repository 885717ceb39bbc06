"""What the lessons in ``lessons/`` share: exercise checks, model answers,
data, and where pictures go.

    from minidl import exercises
    verdict = exercises.check_leaky_relu_backward(my_function)   # prints RIGHT / WRONG

``check_*`` (checks.py): run your function, compare it with central
differences or with minidl itself, print and return a ``Verdict``.
``solutions`` (solutions.py): the model answers, one function per exercise.
``lesson_images``, ``spirals`` (data.py): small data; real images only when
already on this machine, else a labelled synthetic stand-in.
``output_dir()``, ``show(path)``: where a lesson writes its pictures, and
showing one inline in a notebook.
"""
import os

from . import solutions
from .checks import (ALL_CHECKS, Verdict, check_adam_step, check_avgpool_backward,
                     check_batchnorm_backward, check_batchnorm_inference, check_confusion_matrix,
                     check_conv_weight_grad, check_dense_tanh_backward, check_im2col,
                     check_leaky_relu_backward, check_log_softmax, check_maxpool_backward,
                     check_nesterov_step, check_sigmoid_backward, check_sigmoid_bce_gradient,
                     check_train_epoch_mse)
from .data import LessonData, describe, lesson_images, shapes, spirals


def output_dir(lesson):
    """The folder for a lesson's pictures: ``$MINIDL_LESSONS_OUT/<lesson>``, by
    default ``out/lessons/<lesson>`` under the current directory; made if missing."""
    base = os.environ.get("MINIDL_LESSONS_OUT") or os.path.join("out", "lessons")
    path = os.path.join(base, lesson)
    os.makedirs(path, exist_ok=True)
    return path


def show(path):
    """Show a PNG inline when running in Jupyter; otherwise print where it is."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            display(Image(filename=path))
            return
    except ImportError:
        pass
    print(f"picture: {path}")


__all__ = ["ALL_CHECKS", "LessonData", "Verdict", "describe", "lesson_images", "output_dir",
           "shapes", "show", "solutions", "spirals",
           "check_dense_tanh_backward", "check_leaky_relu_backward", "check_sigmoid_backward",
           "check_log_softmax", "check_sigmoid_bce_gradient", "check_im2col",
           "check_conv_weight_grad", "check_maxpool_backward", "check_avgpool_backward",
           "check_batchnorm_backward", "check_batchnorm_inference", "check_nesterov_step",
           "check_adam_step", "check_train_epoch_mse", "check_confusion_matrix"]
