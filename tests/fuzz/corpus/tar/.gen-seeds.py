#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Regenerates the seed corpus of fuzz-tar: small valid layers in every
# format and compression kiln reads, and hostile ones. Run from this
# directory: python3 .gen-seeds.py (needs GNU tar, gzip, zstd, bzip2, xz).
import bz2, gzip, io, lzma, os, shutil, subprocess, tarfile, tempfile

out = os.path.dirname(os.path.abspath(__file__))

def put(name, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)

def tar(entries, fmt=tarfile.PAX_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=fmt) as t:
        for e in entries:
            info, data = e if isinstance(e, tuple) else (e, None)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return b.getvalue()

def reg(name, data=b'', mode=0o644, **kw):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.mtime = 1600000000
    for k, v in kw.items(): setattr(i, k, v)
    return (i, data)

def node(name, typ, **kw):
    i = tarfile.TarInfo(name); i.type = typ; i.mtime = 1600000000
    for k, v in kw.items(): setattr(i, k, v)
    return i

basic = [node('etc/', tarfile.DIRTYPE, mode=0o755), reg('etc/conf', b'key=value\n'),
         node('etc/link', tarfile.SYMTYPE, linkname='conf'),
         node('etc/hard', tarfile.LNKTYPE, linkname='etc/conf'),
         reg('bin/suid', b'#!', mode=0o4755, uid=1000, gid=1000),
         node('dev/fifo', tarfile.FIFOTYPE), node('dev/null', tarfile.CHRTYPE, devmajor=1, devminor=3)]
for fmt, tag in ((tarfile.USTAR_FORMAT, 'ustar'), (tarfile.GNU_FORMAT, 'gnu'), (tarfile.PAX_FORMAT, 'pax')):
    put('valid-%s.tar' % tag, tar(basic, fmt))
t = tar(basic)
put('valid.tar.gz', gzip.compress(t, mtime=0))
put('valid.tar.bz2', bz2.compress(t))
put('valid.tar.xz', lzma.compress(t))
put('valid.tar.zst', subprocess.run(['zstd', '-q', '-c'], input=t, capture_output=True, check=True).stdout)
put('valid-multimember.tar.gz', gzip.compress(t[:700], mtime=0) + gzip.compress(t[700:], mtime=0))
x = reg('x' * 150 + '/caf\u00e9', b'pax')
x[0].pax_headers = {'SCHILY.xattr.user.note': 'hi', 'SCHILY.xattr.security.capability': '\x01\x00\x00\x02'}
put('valid-pax-long-xattr.tar', tar([x, node('l' * 120, tarfile.SYMTYPE, linkname='t' * 130)]))
put('valid-gnu-long.tar', tar([reg('g' * 200, b'gnu'), node('k', tarfile.SYMTYPE, linkname='t' * 160)], tarfile.GNU_FORMAT))
put('valid-whiteouts.tar', tar([node('a/', tarfile.DIRTYPE), reg('a/.wh..wh..opq'), reg('a/new', b'n'),
                                reg('.wh.gone'), reg('a/.wh.old'), node('.wh..wh.plnk/', tarfile.DIRTYPE),
                                reg('.wh..wh.plnk/1.2', b'p')]))
put('valid-empty.tar', b'\0' * 1024)
put('valid-empty', b'')

d = tempfile.mkdtemp()
try:
    os.mkdir(d + '/s')
    with open(d + '/s/sparse', 'wb') as f:
        f.truncate(100000); f.seek(50000); f.write(b'middle')
    for fmt in ('gnu', 'posix'):
        subprocess.run(['tar', '-S', '--format=' + fmt, '-cf', d + '/t', '-C', d + '/s', '.'], check=True)
        put('valid-sparse-%s.tar' % fmt, open(d + '/t', 'rb').read())
finally:
    shutil.rmtree(d)

hostile = {
    'dotdot': [reg('../escape', b'x')],
    'dotdot-inner': [reg('a/../../escape', b'x')],
    'absolute': [reg('/abs/file', b'x')],
    'symlink-escape': [node('evil', tarfile.SYMTYPE, linkname='/tmp'), reg('evil/pwned', b'x')],
    'symlink-dotdot': [node('up', tarfile.SYMTYPE, linkname='../../..'), reg('up/x', b'x')],
    'symlink-loop': [node('a', tarfile.SYMTYPE, linkname='b'), node('b', tarfile.SYMTYPE, linkname='a'), reg('a/x')],
    'hardlink-dotdot': [node('h', tarfile.LNKTYPE, linkname='../etc/passwd')],
    'hardlink-abs': [node('h', tarfile.LNKTYPE, linkname='/etc/passwd')],
    'hardlink-later': [node('h', tarfile.LNKTYPE, linkname='later'), reg('later')],
    'hardlink-dir': [node('d/', tarfile.DIRTYPE), node('h', tarfile.LNKTYPE, linkname='d')],
    'whiteout-dotdot': [reg('a/.wh...')],
    'whiteout-dot': [reg('.wh..')],
    'replace-types': [node('x/', tarfile.DIRTYPE), reg('x/child'), reg('x', b'file'),
                      node('y', tarfile.SYMTYPE, linkname='/etc'), node('y/', tarfile.DIRTYPE)],
    'file-as-parent': [reg('f', b'f'), reg('f/child', b'c')],
}
for k, v in hostile.items():
    put('hostile-%s.tar' % k, tar(v))
good = tar([reg('a', b'data')])
bad = bytearray(good); bad[148:156] = b'0000000\0'
put('hostile-bad-checksum.tar', bytes(bad))
put('hostile-truncated.tar', good[:700])
huge = bytearray(tar([reg('huge', b'')], tarfile.USTAR_FORMAT))
huge[124:136] = b'77777777777\0'
s = sum(huge[:148]) + 8 * 32 + sum(huge[156:512])
huge[148:156] = b'%06o\0 ' % s
put('hostile-huge-size.tar', bytes(huge))
put('hostile-pax-malformed.tar', tar([reg('p', b'')])[:512] + b'99 path=x\n' + b'\0' * 502 + b'\0' * 1024)
put('hostile-truncated.tar.gz', gzip.compress(t, mtime=0)[:-20])
put('hostile-garbage-after.tar.gz', gzip.compress(t, mtime=0) + b'JUNK')
