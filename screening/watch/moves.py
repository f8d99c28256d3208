"""Moving one file out of the inbox so that nothing is overwritten, lost or followed.

The bytes are copied to a hidden tmp beside the destination with the source's mode, fsynced, their
sha256 verified, linked into place (the link fails if the name is taken; where there are no hard
links, a rename that first checks the name is free), then the original is removed: the sorted file is
always a new inode, which no handle kept open on the dropped file can write into (RT26-6). Nothing in
the inbox is ever followed through a symbolic link: the source's folder is opened component by
component from the inbox without following links, every operation on the source is made
relative to that folder, and a link is moved (or re-created) as a link, never read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from screening.store.journal import tmp_path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO dropped in the inbox must not hang the job
_DIR_FD = {os.open, os.stat, os.link, os.unlink, os.rename, os.readlink} <= os.supports_dir_fd
_LINK_NOFOLLOW = {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}

# Moving by hard link fails with these where a share or filesystem has no hard links.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EACCES}


class SourceChanged(Exception):
    """The file's bytes are no longer the ones that were screened: it must be screened again."""


def move(folder: Folder, name: str, sha256: str, image: Path) -> None:
    """Move `name` of `folder` to `image` (a free name) if its bytes are still `sha256`, else
    raise SourceChanged and leave it where it is.

    The bytes are always copied to a hidden tmp beside the destination, fsynced, verified and linked
    into place (or renamed where there are no hard links, never over a file), then the original is
    removed: never moved by hard link or rename, so a handle the uploader kept open on the file they
    dropped (an SFTP or SMB client, a shell) cannot write into the sorted file (RT26-6).

    A link is re-created as a link (what it points to is never read). A file's copy gets the
    source's mode, without the group's bits when the copy's group is not the source's: never
    readable by anyone who could not read the source.
    """
    tmp = tmp_path(image)
    st = folder.lstat(name)
    if st is None:
        raise SourceChanged(str(folder.path / name))
    source = st
    if stat.S_ISLNK(st.st_mode):
        os.symlink(folder.readlink(name), tmp)
    else:
        with folder.open_file(name) as src:
            source = os.fstat(src.fileno())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as dst:
                mode = stat.S_IMODE(source.st_mode) & 0o777
                if os.fstat(fd).st_gid != source.st_gid:
                    mode &= ~0o070
                os.fchmod(fd, mode & 0o777)
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                dst.flush()
                os.utime(fd, ns=(source.st_atime_ns, source.st_mtime_ns))  # the photo keeps its time (RT27-7)
                os.fsync(dst.fileno())
    if sha256_of(tmp) != sha256:
        os.unlink(tmp)
        raise SourceChanged(str(folder.path / name))
    try:
        try:
            os.link(tmp, image, **_LINK_NOFOLLOW)  # fails if the name is taken: never overwrites
            os.unlink(tmp)
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            _rename_unless_taken(tmp, image)
    except OSError:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(image.parent)
    if _identity(folder.lstat(name)) == _identity(source):
        folder.unlink(name)
        folder.fsync()
    # else another file was dropped under the name, or this one written again, while it was copied: it is
    # left in the inbox, where the job screens it as a new file (RT27-12); the copy sorted is what was screened


def _identity(st: os.stat_result | None) -> tuple | None:
    return None if st is None else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _rename_unless_taken(src: Path, dst: Path) -> None:
    if exists(dst):
        raise FileExistsError(f"{dst} already exists; not overwriting it with {src}")
    os.rename(src, dst)


class LinkInTheWay(OSError):
    """A folder on the way from the inbox to a source is a symbolic link: it is not followed."""


class Folder:
    """A folder of the inbox, opened one component at a time from the inbox without following
    links; the source's name is then used relative to it, so swapping a folder for a link
    after this moment changes nothing (where the OS has no *at() calls: plain paths)."""

    def __init__(self, folder: Path, inbox: Path):
        self.path = folder
        self.fd = _open_folder(folder, inbox) if _DIR_FD else None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _at(self, name: str) -> str:
        return name if self.fd is not None else str(self.path / name)

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def sha256(self, name: str) -> str | None:
        try:
            return _digest(self._at(name), self.fd)
        except FileNotFoundError:
            return None

    def open_file(self, name: str):
        return _open_regular(self._at(name), self.fd)

    def readlink(self, name: str) -> str:
        return os.readlink(self._at(name), dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        os.unlink(self._at(name), dir_fd=self.fd)

    def fsync(self) -> None:
        if self.fd is None:
            return fsync_dir(self.path)
        try:
            os.fsync(self.fd)
        except OSError:
            pass


def _open_folder(folder: Path, inbox: Path) -> int:
    try:
        parts = folder.relative_to(inbox).parts
    except ValueError:  # not in this inbox (a tool replaying someone else's entry): as given
        return os.open(folder, os.O_RDONLY | _DIRECTORY)
    fd = os.open(inbox, os.O_RDONLY | _DIRECTORY)
    for part in parts:
        try:
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise LinkInTheWay(exc.errno, f"{folder}: {part} is not a folder (a link?): not followed") from None
            raise
        finally:
            os.close(fd)
        fd = inner
    return fd


def _open_regular(name: str, dir_fd: int | None = None):
    """A regular file opened for reading, never through a link at its last component."""
    fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK, dir_fd=dir_fd)
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise OSError(errno.EINVAL, f"{name}: not a regular file")
    return f


def _digest(name: str, dir_fd: int | None = None) -> str:
    """sha256 of a file's bytes (the value digest.sha256_file gives, but never through a link);
    of a symbolic link, of its target text (what it points to is never read), so a link can be
    journalled and moved like a file."""
    try:
        f = _open_regular(name, dir_fd)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        target = os.fsencode(os.readlink(name, dir_fd=dir_fd))
        return hashlib.sha256(b"symbolic link\0" + target).hexdigest()
    with f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_of(path: Path) -> str:
    """See _digest: a link at `path` is hashed as a link, never followed."""
    return _digest(str(path))


def exists(path: Path) -> bool:
    return os.path.lexists(path)


def remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; some filesystems (SMB, Windows) cannot fsync a folder: fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
