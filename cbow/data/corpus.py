"""Finding and reading the training corpus.

The course trains on one particular Shakespeare text. It is not part of the repository (see
``data/README.md``), so :func:`find_corpus` looks for it in a few known folders and, failing that,
downloads it and checks its SHA-256 so that every run trains on byte-identical text. Any other
corpus is simply a path to a UTF-8 text file of the user's own.

:func:`read_text` reads a corpus file strictly as UTF-8 and turns the usual failures (missing
file, wrong encoding, empty file) into errors that say what to do.
"""
from __future__ import annotations

import codecs
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from cbow.errors import InputError
from cbow.io import give_default_permissions

__all__ = [
    "CORPUS_ENV_VAR",
    "DATA_DIR",
    "SHAKESPEARE_FILENAME",
    "SHAKESPEARE_NAME",
    "SHAKESPEARE_SHA256",
    "SHAKESPEARE_SIZE",
    "SHAKESPEARE_URL",
    "ChecksumError",
    "find_corpus",
    "read_text",
    "sha256_of_file",
]

SHAKESPEARE_NAME = "shakespeare"
SHAKESPEARE_FILENAME = "shakespeare.txt"
SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/geeknoobie/w4_unittest/"
    "1ebf3b8944c391f0ee9fe31db7fed449c63c3fbe/shakespeare%202.txt"
)
SHAKESPEARE_SHA256 = "fca7572af9206e6abb75483c5dbead770385b18f62c024e190a61d0dd4166a0c"
#: Size in bytes of the expected file; only used to tell people what to look for.
SHAKESPEARE_SIZE = 306_996


def default_data_dir() -> Path:
    """Where corpora are looked for first and downloaded to.

    In a checkout of the repository (``pyproject.toml`` beside the package) its ``data/``
    folder; in an installed package the user's data folder, ``$XDG_DATA_HOME/cbow`` (by default
    ``~/.local/share/cbow``), since the package's own folder may be read-only or shared.
    """
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return root / "data"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cbow"


#: The first place searched for corpora and where downloads are saved (see default_data_dir).
DATA_DIR = default_data_dir()
#: Environment variable holding extra folders to search, separated like ``PATH``.
CORPUS_ENV_VAR = "CBOW_DATA"

# Seconds without any network progress before a download is abandoned. Generous, because the
# file is small and a stalled connection is better reported than waited on forever.
_DOWNLOAD_TIMEOUT = 60
_CHUNK_BYTES = 64 * 1024


class ChecksumError(InputError):
    """A corpus file's SHA-256 digest is not the one expected."""


def sha256_of_file(path: str | os.PathLike) -> str:
    """Return the hexadecimal SHA-256 digest of a file's bytes.

    Parameters
    ----------
    path : str or os.PathLike
        File to hash.

    Returns
    -------
    str
        64 lower-case hexadecimal digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _env_folders() -> list[Path]:
    """Folders listed in ``$CBOW_DATA``, in order, ignoring empty entries."""
    raw = os.environ.get(CORPUS_ENV_VAR, "")
    return [Path(entry).expanduser() for entry in raw.split(os.pathsep) if entry.strip()]


def _is_named_corpus(corpus: str | os.PathLike) -> bool:
    # Only the plain string is the name; a Path (or "./shakespeare") always means a file.
    return isinstance(corpus, str) and corpus == SHAKESPEARE_NAME


def _verify_found_file(path: Path, expected: str) -> None:
    """Raise :class:`ChecksumError` if a locally found ``shakespeare.txt`` is not the course's."""
    actual = sha256_of_file(path)
    if actual != expected.lower():
        raise ChecksumError(
            f"{path}: this is not the course's {SHAKESPEARE_FILENAME}: its sha256 is {actual}, "
            f"expected {expected} ({SHAKESPEARE_SIZE:,} bytes; this file has "
            f"{path.stat().st_size:,}). The file is damaged or a different text. Delete or "
            f"rename it so the right copy can be found or downloaded again, or, to train on "
            f"this text anyway, pass its path instead of the name '{SHAKESPEARE_NAME}'."
        )


def _not_found_message(data_dir: Path, places: list[Path], url: str, reason: str) -> str:
    """Explain where the Shakespeare corpus was looked for and how to provide it."""
    lines = [f"Could not find the '{SHAKESPEARE_NAME}' corpus ({SHAKESPEARE_FILENAME}). "
             "Looked for:"]
    lines += [f"  - {place}" for place in places]
    if not os.environ.get(CORPUS_ENV_VAR, "").strip():
        lines.append(f"  (${CORPUS_ENV_VAR} is not set, so no further folders were searched)")
    lines.append(f"and {reason}.")
    lines += [
        "To fix it, do one of:",
        f"  - put {SHAKESPEARE_FILENAME} ({SHAKESPEARE_SIZE:,} bytes, sha256 "
        f"{SHAKESPEARE_SHA256}) in {data_dir}",
        f"  - set {CORPUS_ENV_VAR} to a folder that contains it (several folders: separate "
        f"them with '{os.pathsep}')",
        f"  - allow the download from {url} (needs network access)",
        "  - train on your own text instead: pass the path of a UTF-8 text file as the corpus",
    ]
    return "\n".join(lines)


def _download(url: str, destination: Path, sha256: str | None) -> Path:
    """Download ``url`` to ``destination`` atomically, checking its SHA-256 on the way.

    The bytes go to a temporary file in the destination folder (so the final rename stays on
    one file system and is atomic); it is renamed into place only once complete and verified,
    and removed on any failure, so an interrupted download never leaves a partial corpus that
    a later run would pick up.
    """
    # Remember the folders this call creates, so that a failure can remove them again.
    created = [folder for folder in (destination.parent, *destination.parent.parents)
               if not folder.exists()]
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    give_default_permissions(handle)
    temp_path = Path(temp_name)
    finished = False
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(
            url, timeout=_DOWNLOAD_TIMEOUT
        ) as response:
            length = response.headers.get("Content-Length")
            expected_size = int(length) if length and length.isdigit() else None
            with tqdm(total=expected_size, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=f"downloading {destination.name}", disable=None) as progress:
                for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.update(len(chunk))
        if expected_size is not None and received != expected_size:
            # Without this a dropped connection could pass unnoticed when no checksum is given.
            raise ConnectionError(
                f"the connection ended after {received:,} of {expected_size:,} bytes"
            )
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise ChecksumError(
                f"downloaded {url} but its sha256 is {actual}, expected {sha256} "
                f"({received:,} bytes received). Nothing was saved to {destination.parent}. "
                f"The file at that address has changed or the download was altered; check "
                f"the URL, or get the right {destination.name} yourself and put it in "
                f"{destination.parent} or in a folder listed in ${CORPUS_ENV_VAR}."
            )
        os.replace(temp_path, destination)
        finished = True
        return destination
    finally:
        if not finished:
            temp_path.unlink(missing_ok=True)
            for folder in created:  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty (something else wrote there): leave it


def find_corpus(
    corpus: str | os.PathLike = SHAKESPEARE_NAME,
    *,
    data_dir: str | os.PathLike | None = None,
    url: str = SHAKESPEARE_URL,
    sha256: str | None = SHAKESPEARE_SHA256,
    download: bool = True,
) -> Path:
    """Locate a corpus file, downloading the course's Shakespeare text if needed.

    Parameters
    ----------
    corpus : str or os.PathLike, default "shakespeare"
        Either the name ``"shakespeare"`` (the course's corpus) or the path of the user's own
        UTF-8 text file. Only the exact string ``"shakespeare"`` is treated as the name; write
        ``"./shakespeare"`` to mean a file of that name.
    data_dir : str or os.PathLike, optional
        First folder searched for ``shakespeare.txt`` and the folder a download is saved to.
        Defaults to :data:`DATA_DIR`: a checkout's ``data/`` folder, else the user's
        data folder (:func:`default_data_dir`).
    url : str, default :data:`SHAKESPEARE_URL`
        Where to download ``shakespeare.txt`` from when no local copy exists.
    sha256 : str or None, default :data:`SHAKESPEARE_SHA256`
        Expected SHA-256 of ``shakespeare.txt``, checked on local copies and on downloads.
        ``None`` skips the check.
    download : bool, default True
        Whether a missing ``shakespeare.txt`` may be downloaded.

    Returns
    -------
    pathlib.Path
        Path of the corpus file.

    Raises
    ------
    FileNotFoundError
        The user's file does not exist, or ``shakespeare.txt`` is in none of the searched
        folders and could not be downloaded (the message lists every place looked in).
    ChecksumError
        A found or downloaded ``shakespeare.txt`` has the wrong SHA-256 (a
        :class:`ValueError`). A failed download leaves nothing behind in ``data_dir``.

    Notes
    -----
    ``shakespeare.txt`` is searched for in ``data_dir`` first, then in each folder of the
    ``CBOW_DATA`` environment variable (separated by :data:`os.pathsep`, like ``NLTK_DATA``),
    and only then downloaded into ``data_dir``.
    """
    if not _is_named_corpus(corpus):
        path = Path(corpus).expanduser()
        if path.is_file():
            return path
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"corpus file {path} {problem} (resolved from the working directory "
            f"{Path.cwd()}). Pass the path of a UTF-8 text file, or the name "
            f"'{SHAKESPEARE_NAME}' to use the course's corpus."
        )

    data_dir = Path(data_dir).expanduser() if data_dir is not None else DATA_DIR
    places = [folder / SHAKESPEARE_FILENAME for folder in [data_dir, *_env_folders()]]
    for candidate in places:
        if candidate.is_file():
            if sha256 is not None:
                _verify_found_file(candidate, sha256)
            return candidate

    if not download:
        reason = "downloading was not allowed (download=False)"
        raise FileNotFoundError(_not_found_message(data_dir, places, url, reason))
    try:
        return _download(url, data_dir / SHAKESPEARE_FILENAME, sha256)
    except ChecksumError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as error:
        # URLError/HTTPError are OSErrors; ValueError covers a malformed URL. All of them mean
        # "not available", which is what callers handle, with the cause kept in the chain.
        reason = f"downloading it from {url} failed: {error}"
        raise FileNotFoundError(_not_found_message(data_dir, places, url, reason)) from error


def _describe_decode_error(path: Path, raw: bytes, error: UnicodeDecodeError) -> str:
    """Say where in ``raw`` the invalid UTF-8 is, as a line number and byte offsets."""
    offset = error.start
    line_number = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    bad = raw[offset:error.end].hex(" ")
    return (
        f"{path}: line {line_number}, byte {offset - line_start} of the line (byte offset "
        f"{offset} in the file): bytes {bad} are not valid UTF-8 ({error.reason}). The corpus "
        f"must be UTF-8 text. Re-encode it, for example with "
        f"`iconv -f latin1 -t utf-8 '{path}' > corpus-utf8.txt` (use the file's real "
        f"encoding in place of latin1), and use the new file."
    )


def read_text(path: str | os.PathLike) -> str:
    """Read a corpus file as UTF-8 text.

    Parameters
    ----------
    path : str or os.PathLike
        The corpus file.

    Returns
    -------
    str
        The file's text. Line endings are normalised to ``"\\n"`` (as Python's text mode
        does) and a leading UTF-8 byte-order mark is dropped, so it cannot glue itself to the
        first word.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not valid UTF-8 (the message gives the line and byte offset of the first
        bad byte), or it is empty or holds only whitespace.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"corpus path {path} is a folder; pass a text file inside it")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"corpus file {path} does not exist (resolved from the working directory "
            f"{Path.cwd()}); check the path"
        ) from None
    # Skip a byte-order mark by hand rather than with the "utf-8-sig" codec, whose error
    # offsets would then not count the mark and so point 3 bytes before the bad byte.
    body_start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        # Decoding all at once (not line by line) lets the error report the exact byte offset.
        text = raw[body_start:].decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        error.start += body_start
        error.end += body_start
        raise InputError(_describe_decode_error(path, raw, error)) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        size = "empty" if not raw else f"only whitespace ({len(raw):,} bytes)"
        raise InputError(
            f"corpus file {path} is {size}: the corpus is empty, so there is nothing to "
            f"train on. Check that the right file was given and that it was fully written."
        )
    return text
