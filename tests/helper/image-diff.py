#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare two container images the way a runtime sees them.

    image-diff.py [options] IMAGE_A IMAGE_B
    image-diff.py --dump IMAGE

IMAGE is an OCI image layout directory (`kiln build -o type=oci,tar=false`,
`buildah push IMG oci:DIR`, `skopeo copy ... oci:DIR`), an OCI archive
(the same as a tar) or a docker archive (`kiln save`, `docker save`,
`podman save`); a layout or archive holding several images takes
`PATH@REF` (the ref name or tag; default: the only image).

The layers are applied in order, as a runtime unpacks them (whiteouts,
opaque directories, a non-directory replacing a directory), without writing
anything to disk. Every path of the resulting root filesystem is compared
on: type, permission bits (with setuid/setgid/sticky), uid, gid, size,
content (sha256), link target (symlinks; hard links count as the file they
link to), device numbers. Then the image config: Env, Cmd, Entrypoint,
WorkingDir, User, ExposedPorts, Volumes, Labels, Healthcheck, StopSignal,
OnBuild, Shell, the number of history entries and their empty_layer flags,
and the number of layers.

Options:
  --ignore-path GLOB    leave out paths matching GLOB (fnmatch over the path
                        without its leading "/"; repeatable)
  --allow-extra-b GLOB  a path matching GLOB may exist in IMAGE_B only (and
                        only there: one IMAGE_A has is compared as usual)
  --allow-workdir-layer WORKDIR may or may not make a layer: history entries
                        whose created_by has "WORKDIR" are left out of the
                        empty_layer comparison, and the layer counts are
                        compared without the layers of those entries
  --ignore-field NAME   leave out a config field (as above; "history" for the
                        history comparison, "layers" for the layer count;
                        "Labels.KEY" for one label; repeatable)
  --skip-history-b TEXT history entries of IMAGE_B whose created_by has TEXT
                        are left out (an instruction IMAGE_A records none for)
  --only-history-count  compare only how many history entries there are, not
                        their empty_layer flags
  --dump                print IMAGE's paths and config in the compared form

Exit status: 0 the same, 1 different (each difference on stdout, one per
line: "path: what: A != B" or "config FIELD: A != B"), 2 bad usage or input.
"""

import argparse
import fnmatch
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

CONFIG_FIELDS = [
    "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
    "Labels", "Healthcheck", "StopSignal", "OnBuild", "Shell",
]
MAX_JSON = 16 << 20


class BadInput(Exception):
    pass


# ---- reading images -------------------------------------------------------

class Source:
    """Blobs by digest from a layout directory or an archive."""

    def __init__(self, path):
        self.path = path
        self.tar = None
        if os.path.isdir(path):
            self.names = None
        else:
            try:
                self.tar = tarfile.open(path, "r:")
            except (tarfile.TarError, OSError) as e:
                raise BadInput(f"{path}: not a directory nor a tar: {e}")
            self.names = {m.name.lstrip("./") if m.name.startswith("./") else m.name: m
                          for m in self.tar.getmembers()}

    def has(self, name):
        if self.tar is None:
            return os.path.exists(os.path.join(self.path, name))
        return name in self.names

    def open(self, name):
        if self.tar is None:
            return open(os.path.join(self.path, name), "rb")
        m = self.names.get(name)
        if m is None:
            raise BadInput(f"{self.path}: no {name}")
        # follow symlinks/hardlinks inside docker archives
        while m.issym() or m.islnk():
            target = os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname)) \
                if m.issym() else m.linkname
            m = self.names.get(target)
            if m is None:
                raise BadInput(f"{self.path}: dangling link {name}")
        return self.tar.extractfile(m)

    def json(self, name):
        with self.open(name) as f:
            data = f.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            raise BadInput(f"{self.path}: {name} is too large")
        return json.loads(data)

    def blob(self, digest):
        algo, _, hexd = digest.partition(":")
        return "blobs/%s/%s" % (algo, hexd)


def load_image(spec):
    """Returns (config dict, [layer file objects opener]) for IMAGE[@REF]."""
    path, ref = spec, None
    if not os.path.exists(path) and "@" in spec:
        path, _, ref = spec.rpartition("@")
    src = Source(path)
    if src.has("index.json") and src.has("oci-layout"):
        return load_oci(src, ref)
    if src.has("manifest.json"):
        return load_docker(src, ref)
    raise BadInput(f"{path}: neither an OCI layout nor a docker archive")


def load_oci(src, ref):
    index = src.json("index.json")
    manifests = index.get("manifests", [])
    if ref is not None:
        def name_of(d):
            n = d.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
            return n
        picked = [d for d in manifests if name_of(d) == ref or name_of(d).endswith(":" + ref)]
    else:
        picked = manifests
    if len(picked) != 1:
        raise BadInput(f"{src.path}: {len(picked)} images match {ref or '(any)'}")
    desc = picked[0]
    while desc["mediaType"] in ("application/vnd.oci.image.index.v1+json",
                                "application/vnd.docker.distribution.manifest.list.v2+json"):
        sub = src.json(src.blob(desc["digest"]))["manifests"]
        sub = [d for d in sub if d.get("platform", {}).get("architecture") in (None, "amd64")]
        desc = sub[0]
    manifest = src.json(src.blob(desc["digest"]))
    config = src.json(src.blob(manifest["config"]["digest"]))
    layers = [(lambda d=l["digest"]: src.open(src.blob(d))) for l in manifest["layers"]]
    return config, layers


def load_docker(src, ref):
    entries = src.json("manifest.json")
    if ref is not None:
        entries = [e for e in entries if any(t == ref or t.endswith(":" + ref) or
                                             t.endswith("/" + ref) for t in e.get("RepoTags") or [])]
    if len(entries) != 1:
        raise BadInput(f"{src.path}: {len(entries)} images match {ref or '(any)'}")
    e = entries[0]
    config = src.json(e["Config"])
    layers = [(lambda n=n: src.open(n)) for n in e["Layers"]]
    return config, layers


# ---- applying layers ------------------------------------------------------

def norm(name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def under(path, root):
    return root == "" or path.startswith(root + "/")


def apply_layer(fs, fileobj):
    """fs: dict path -> entry dict. Applies one layer tar (any compression)."""
    with tarfile.open(fileobj=fileobj, mode="r|*") as tf:
        adds = []
        deletes = []
        opaques = []
        for m in tf:
            path = norm(m.name)
            base = os.path.basename(path)
            parent = os.path.dirname(path)
            if base == ".wh..wh..opq":
                opaques.append(parent)
                continue
            if base.startswith(".wh."):
                deletes.append(os.path.join(parent, base[4:]) if parent else base[4:])
                continue
            if path == "":
                continue
            e = {"type": None, "mode": stat.S_IMODE(m.mode), "uid": m.uid, "gid": m.gid}
            if m.isreg():
                f = tf.extractfile(m)
                h = hashlib.sha256()
                size = 0
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    size += len(chunk)
                e.update(type="file", size=size, sha256=h.hexdigest())
            elif m.isdir():
                e.update(type="dir")
            elif m.issym():
                e.update(type="symlink", target=m.linkname)
            elif m.islnk():
                e.update(type="hardlink", target=norm(m.linkname))
            elif m.ischr() or m.isblk():
                e.update(type="char" if m.ischr() else "block", dev="%d,%d" % (m.devmajor, m.devminor))
            elif m.isfifo():
                e.update(type="fifo")
            else:
                e.update(type="other")
            adds.append((path, e))
    # whiteouts hide what the layers below have
    for d in opaques:
        for p in [p for p in fs if under(p, d) and p != d]:
            del fs[p]
    for d in deletes:
        for p in [p for p in fs if p == d or under(p, d)]:
            del fs[p]
    for path, e in adds:
        if e["type"] == "hardlink":
            t = fs.get(e["target"]) or dict(next((x for q, x in adds if q == e["target"]), {}))
            if not t:
                raise BadInput(f"hard link {path} to missing {e['target']}")
            e = dict(t)
        old = fs.get(path)
        if old is not None and old["type"] == "dir" and e["type"] != "dir":
            for p in [p for p in fs if under(p, path)]:
                del fs[p]
        fs[path] = e
        # parents a layer does not list exist all the same
        parent = os.path.dirname(path)
        while parent and parent not in fs:
            fs[parent] = {"type": "dir", "mode": 0o755, "uid": 0, "gid": 0, "implied": True}
            parent = os.path.dirname(parent)


def rootfs(layers):
    fs = {}
    for opener in layers:
        with opener() as f:
            apply_layer(fs, f)
    return fs


def describe(e):
    keys = ["type", "mode", "uid", "gid", "size", "sha256", "target", "dev"]
    out = {}
    for k in keys:
        if k in e:
            out[k] = ("%04o" % e[k]) if k == "mode" else e[k]
    return out


# ---- config ---------------------------------------------------------------

def config_view(config, ignore_fields, only_history_count, workdir_layer=False, skip=()):
    c = config.get("config") or {}
    view = {}
    for f in CONFIG_FIELDS:
        if f in ignore_fields:
            continue
        v = c.get(f)
        if f == "Labels" and v:
            v = {k: x for k, x in v.items() if "Labels." + k not in ignore_fields}
        # an empty list/map and an absent field mean the same to a runtime
        if v in ({}, [], "", None):
            v = None
        if f == "Healthcheck" and v:
            v = {k: x for k, x in v.items() if x not in (0, None, [])}
        view[f] = v
    hist = config.get("history") or []
    nlayers = len((config.get("rootfs") or {}).get("diff_ids") or [])
    hist = [h for h in hist if not any(t in (h.get("created_by") or "") for t in skip)]
    if workdir_layer:
        wd = [h for h in hist if "WORKDIR" in (h.get("created_by") or "")]
        nlayers -= len([h for h in wd if not h.get("empty_layer")])
        hist = [h for h in hist if h not in wd]
    if "history" not in ignore_fields:
        if only_history_count:
            view["history.count"] = len(hist)
        else:
            view["history.empty_layer"] = [bool(h.get("empty_layer")) for h in hist]
    if "layers" not in ignore_fields:
        view["layers"] = nlayers
    return view


# ---- main -----------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--ignore-path", action="append", default=[])
    ap.add_argument("--ignore-field", action="append", default=[])
    ap.add_argument("--allow-extra-b", action="append", default=[])
    ap.add_argument("--allow-workdir-layer", action="store_true")
    ap.add_argument("--skip-history-b", action="append", default=[])
    ap.add_argument("--only-history-count", action="store_true")
    ap.add_argument("--dump", action="store_true")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args(argv)
    if len(a.images) != (1 if a.dump else 2):
        ap.error("one image with --dump, else two")
    try:
        loaded = [load_image(i) for i in a.images]
        trees = [rootfs(layers) for _, layers in loaded]
    except (BadInput, tarfile.TarError, OSError, KeyError, ValueError) as e:
        print(f"image-diff: {e}", file=sys.stderr)
        return 2

    def ignored(p):
        return any(fnmatch.fnmatchcase(p, g) for g in a.ignore_path)

    views = [config_view(c, set(a.ignore_field), a.only_history_count, a.allow_workdir_layer,
                         a.skip_history_b if i == 1 else ())
             for i, (c, _) in enumerate(loaded)]
    if a.dump:
        for p in sorted(trees[0]):
            if not ignored(p):
                print("/" + p, json.dumps(describe(trees[0][p]), sort_keys=True))
        for k, v in views[0].items():
            print("config", k, json.dumps(v, sort_keys=True))
        return 0

    diffs = []
    ta, tb = trees
    for p in sorted(set(ta) | set(tb)):
        if ignored(p):
            continue
        ea, eb = ta.get(p), tb.get(p)
        if ea is None and any(fnmatch.fnmatchcase(p, g) for g in a.allow_extra_b):
            continue
        if ea is None or eb is None:
            diffs.append("/%s: only in %s" % (p, a.images[0] if eb is None else a.images[1]))
            continue
        da, db = describe(ea), describe(eb)
        for k in sorted(set(da) | set(db)):
            if da.get(k) != db.get(k):
                diffs.append("/%s: %s: %s != %s" % (p, k, da.get(k), db.get(k)))
    va, vb = views
    for k in va:
        if va[k] != vb[k]:
            diffs.append("config %s: %s != %s" % (k, json.dumps(va[k], sort_keys=True),
                                                   json.dumps(vb[k], sort_keys=True)))
    for d in diffs:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
