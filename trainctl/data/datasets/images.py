"""Image files read with Pillow: ``ImageFolder`` (one subfolder per class) and ``list_images``.

Pillow is optional (``pip install 'trainctl[images]'``) and imported only when an image is
read; without it the first use is a :class:`DataError` saying so. Each image is decoded as the
format its extension names (``.png`` -> PNG, ``.jpg`` -> JPEG, ...), converted to ``RGB`` (or
``L``, grey) and handed out as a uint8 ``H x W x C`` array, ready for ``ToTensor``. A file
that is not a readable image of that format, is truncated or declares more pixels than Pillow's
``MAX_IMAGE_PIXELS`` (a decompression bomb) is a DataError naming the file.

Example:
    >>> from trainctl.data import transforms as T
    >>> ds = ImageFolder("pets/train", transform=[T.Resize((64, 64)),  # doctest: +SKIP
    ...                                           T.ToTensor()])
    >>> ds.classes, ds[0][0].shape  # doctest: +SKIP
    (['cat', 'dog'], trainctl.Size([3, 64, 64]))
"""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from ..dataset import Dataset
from ..imaging import pillow
from ..transforms import as_transform
from .checks import os_error

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg")
MODES = ("RGB", "L")


def _extensions(extensions) -> tuple[str, ...]:
    if isinstance(extensions, str):
        extensions = (extensions,)
    exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
    if not exts:
        raise DataError("extensions must name at least one file extension, e.g. ['.png']")
    return exts


def _is_image(name: str, exts: tuple[str, ...]) -> bool:
    return name.lower().endswith(exts) and not name.startswith(".")


def list_images(folder, extensions=IMG_EXTENSIONS) -> list[str]:
    """The image files directly in ``folder`` (not its subfolders), as sorted paths.

    For predicting on a plain folder of images; a missing folder or one without images is a
    DataError.

    Example:
        >>> list_images("new_photos")  # doctest: +SKIP
        ['new_photos/a.png', 'new_photos/b.jpg']
    """
    folder = os.fspath(folder)
    exts = _extensions(extensions)
    try:
        names = sorted(e.name for e in os.scandir(folder)
                       if e.is_file() and _is_image(e.name, exts))
    except OSError as e:
        raise os_error(folder, e, "image folder") from None
    if not names:
        raise DataError(f"{folder}: no images ({', '.join(exts)}) in the folder")
    return [os.path.join(folder, n) for n in names]


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] or type(e).__name__


def _formats(Image, exts: tuple[str, ...]) -> list[str] | None:
    """The Pillow formats the extensions name (decoders of other formats are never tried)."""
    known = Image.registered_extensions()
    formats = sorted({known[e] for e in exts if e in known})
    return formats or None


def load_image(path, mode: str = "RGB", extensions=IMG_EXTENSIONS,
               size=None) -> numpy.ndarray:
    """Read one image as a uint8 ``H x W x C`` array (``C`` = 3 for ``RGB``, 1 for ``L``).

    Only the formats that ``extensions`` name are decoded (a PNG named ``.jpg`` is still read).
    ``size`` ``(h, w)`` resizes the image (Pillow, bilinear); a model's sample shape
    ``(C, h, w)`` also picks the mode (``C`` = 1: ``L``, 3: ``RGB``). None keeps it as it is.

    Example:
        >>> load_image("cat.png").shape  # doctest: +SKIP
        (32, 48, 3)
        >>> load_image("digit.png", size=(1, 28, 28)).shape  # doctest: +SKIP
        (28, 28, 1)
    """
    import warnings

    path = os.fspath(path)
    Image = pillow()
    if size is not None:
        size = tuple(int(v) for v in size)
        if len(size) == 3:
            if size[0] not in (1, 3):
                raise DataError(f"{path}: images have 1 (L) or 3 (RGB) channels, the sample "
                                f"shape {size} asks for {size[0]}")
            mode, size = ("L" if size[0] == 1 else "RGB"), size[1:]
        if len(size) != 2 or min(size) < 1:
            raise DataError(f"load_image: size must be (h, w) or (C, h, w), got {size}")
    if mode not in MODES:
        raise DataError(f"image mode must be one of {', '.join(MODES)}, got {mode!r}")
    formats = _formats(Image, _extensions(extensions))
    what = "/".join(formats) if formats else "image"
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(f, formats=formats) as img:
                img.load()
                img = img.convert(mode)
                if size is not None and img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                array = numpy.asarray(img, dtype=numpy.uint8)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        raise os_error(path, e, "image") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: image too large ({_one_line(e)})") from None
    except (OSError, ValueError, SyntaxError, MemoryError) as e:
        raise DataError(f"{path}: not a readable {what} file ({_one_line(e)})") from None
    return array[:, :, None] if array.ndim == 2 else array


class ImageFolder(Dataset):
    """Images in one subfolder per class (torchvision's ``ImageFolder`` layout)::

        root/cat/001.png
        root/cat/nested/002.jpg
        root/dog/003.jpeg

    Args:
        root: the folder holding one subfolder per class (subfolders of those are searched too).
        transform: applied to each image, a uint8 ``H x W x C`` array (e.g. ``[Resize(64),
            ToTensor()]``); without one, samples are uint8 tensors ``(H, W, C)``.
        target_transform: applied to each class index (a Python int).
        extensions: which files are images (case-insensitive).
        mode: ``"RGB"`` (3 channels) or ``"L"`` (1 channel, grey); every image is converted.

    Attributes:
        classes: the subfolder names, sorted; ``class_to_idx`` maps them to indices.
        samples: ``(path, class_index)`` pairs, sorted by class then path (``imgs`` is the same
            list); ``targets``: the class indices.

    Example:
        >>> ds = ImageFolder("pets/train")  # doctest: +SKIP
        >>> ds.class_to_idx  # doctest: +SKIP
        {'cat': 0, 'dog': 1}
    """

    def __init__(self, root, transform=None, target_transform=None,
                 extensions=IMG_EXTENSIONS, mode: str = "RGB"):
        self.root = os.fspath(root)
        if mode not in MODES:
            raise DataError(f"ImageFolder: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode, self.extensions = mode, _extensions(extensions)
        self.transform = as_transform(transform)
        self.target_transform = as_transform(target_transform)
        pillow()  # a missing Pillow is said now, not at the first batch
        try:
            self.classes = sorted(e.name for e in os.scandir(self.root)
                                  if e.is_dir() and not e.name.startswith("."))
        except OSError as e:
            raise os_error(self.root, e, "image folder") from None
        if not self.classes:
            raise DataError(f"{self.root}: no class subfolders (ImageFolder expects "
                            "root/<class>/<image>; for a plain folder of images use list_images)")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = []
        empty = []
        for c in self.classes:
            found = self._find(os.path.join(self.root, c))
            if not found:
                empty.append(c)
            self.samples += [(p, self.class_to_idx[c]) for p in found]
        if empty:
            raise DataError(f"{self.root}: no images ({', '.join(self.extensions)}) in the class "
                            f"folder(s) {empty[:10]}")
        self.imgs = self.samples
        self.targets = [t for _, t in self.samples]

    def _find(self, folder: str) -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found += [os.path.join(dirpath, f) for f in filenames
                      if _is_image(f, self.extensions)]
        return sorted(found)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        image = load_image(path, self.mode, self.extensions)
        if self.transform is not None:
            x = self.transform(image)
        else:
            from ...autograd.tensor import Tensor

            x = Tensor._wrap(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return x, target
