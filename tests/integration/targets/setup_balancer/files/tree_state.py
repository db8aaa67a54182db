"""Checksums of configuration files and directories (stdlib only).

Test helper of the integration targets:
    tree_state.py PATH...
Prints JSON {PATH: "SHA1 MODE MTIME_NS" for a file, "dir MODE MTIME_NS" for a
directory (and then each entry under it, hidden ones too, recursively),
"link TARGET" for a symbolic link, "absent" for a path that does not exist}.
Two equal outputs mean nothing was written, created, removed or renamed
there (an atomic rewrite with the same bytes changes MTIME_NS).
"""
import hashlib
import json
import os
import stat
import sys


def describe(path, found):
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        found[path] = "absent"
        return
    mode = "%04o %d" % (stat.S_IMODE(info.st_mode), info.st_mtime_ns)
    if stat.S_ISDIR(info.st_mode):
        found[path] = "dir " + mode
        for name in sorted(os.listdir(path)):
            describe(os.path.join(path, name), found)
    elif stat.S_ISLNK(info.st_mode):
        found[path] = "link " + os.readlink(path)
    else:
        with open(path, "rb") as handle:
            found[path] = hashlib.sha1(handle.read()).hexdigest() + " " + mode


def main():
    found = {}
    for path in sys.argv[1:]:
        describe(os.path.normpath(path), found)
    print(json.dumps(found, sort_keys=True))


if __name__ == "__main__":
    main()
