#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Make a realistic build context of FILES files and a 100-pattern .dockerignore.

    make-tree.py DIR [FILES]   (default 50000)

The tree looks like a mid-sized monorepo: application sources in nested
packages, tests with fixtures, docs, a node_modules tree, build outputs, a
.git directory, logs and editor droppings scattered around. About half of it
is excluded by the .dockerignore, some of that with exceptions inside, so a
walker has to both skip whole subtrees and descend into excluded ones.
The content is deterministic (seeded); file sizes are small (0-2 KiB).
"""
import os
import random
import sys

IGNORE = """\
# VCS and tooling
.git
.gitignore
.gitattributes
.hg
.svn
.idea
.vscode
*.swp
*.swo
*~
.DS_Store
**/.DS_Store
Thumbs.db
# dependencies
node_modules
!node_modules/keep-me
!node_modules/keep-me/**
bower_components
jspm_packages
vendor/bundle
.pnp
.pnp.js
.yarn/cache
.yarn/unplugged
# builds
build
dist
out
target
!target/release/app
coverage
.nyc_output
.next
.nuxt
.cache
.parcel-cache
tmp
temp
# logs and dumps
**/*.log
!**/important.log
logs
*.pid
*.seed
*.pid.lock
npm-debug.log*
yarn-debug.log*
yarn-error.log*
lerna-debug.log*
core
core.*
*.core
# python
**/__pycache__
**/*.pyc
**/*.pyo
*.egg-info
.eggs
.tox
.venv
venv
.mypy_cache
.pytest_cache
# secrets
.env
.env.*
!.env.example
*.pem
*.key
secrets
# docs are not needed, except the top ones
docs/**/*.md
!docs/README.md
*.md
!README.md
!CHANGELOG.md
# tests
tests/fixtures/large
tests/**/*.snap
**/*.tmp
**/*.bak
**/*.orig
**/*.rej
# misc
Dockerfile*
!Dockerfile
docker-compose*.yml
.dockerignore
Makefile.local
*.tgz
*.tar.gz
*.zip
**/testdata/golden
src/**/generated
!src/**/generated/keep*.go
assets/raw
# generated and local-only
*.local
.terraform
*.tfstate
*.tfstate.*
.sass-cache
.eslintcache
.stylelintcache
*.tsbuildinfo
.serverless
.dynamodb
.fusebox
.webpack
"""

EXTS = [".go", ".c", ".h", ".py", ".js", ".ts", ".json", ".yaml", ".txt"]


class Tree:
    def __init__(self, root, budget, rng):
        self.root, self.budget, self.rng, self.made = root, budget, rng, 0

    def file(self, rel, size=None):
        if self.made >= self.budget:
            return False
        path = os.path.join(self.root, rel)
        if os.path.exists(path):
            raise SystemExit(f"generator bug: {rel} made twice")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        n = self.rng.randrange(0, 2048) if size is None else size
        with open(path, "wb") as f:
            f.write(b"x" * n)
        self.made += 1
        return True


def build(root, files):
    rng = random.Random(42)
    t = Tree(root, files, rng)
    shares = [  # (fraction of the files, generator)
        (0.26, lambda i: f"src/pkg{i // 60:03d}/{'sub/' if i % 3 else ''}f{i}{rng.choice(EXTS)}"),
        (0.28, lambda i: f"node_modules/{'keep-me' if i < 200 else f'dep{i // 40:03d}'}/lib/m{i}.js"),
        (0.10, lambda i: f".git/objects/{i % 256:02x}/{i:038x}"),
        (0.07, lambda i: f"build/{'obj' if i % 2 else 'gen'}/{i // 100}/o{i}.o"),
        (0.10, lambda i: f"tests/{'fixtures/large' if i % 5 == 0 else f'unit{i // 80}'}/t{i}{'.snap' if i % 7 == 0 else '.go'}"),
        (0.06, lambda i: f"docs/{'api/' if i % 2 else ''}page{i}.md"),
        (0.03, lambda i: f"logs/{'important' if i == 0 else f'run{i}'}.log"),
        (0.04, lambda i: f"src/pkg{i % 40:03d}/generated/{'keep' if i % 50 == 0 else 'g'}{i}.go"),
        (0.03, lambda i: f"assets/{'raw' if i % 2 else 'img'}/a{i}.png"),
    ]
    for frac, gen in shares:
        for i in range(int(files * frac)):
            if not t.file(gen(i)):
                break
    # scattered logs, temp files and editor droppings
    i = 0
    while t.made < files - 6:
        d = rng.choice(["src/pkg001", "src/pkg002/sub", "tests/unit1", "docs", "."])
        t.file(f"{d}/scratch{i}{rng.choice(['.log', '.tmp', '.bak', '.txt', '.DS_Store'])}")
        i += 1
    for name in ["README.md", "CHANGELOG.md", "Dockerfile", "Makefile", "go.mod", ".env.example"]:
        t.file(name, 100)
    with open(os.path.join(root, ".dockerignore"), "w") as f:
        f.write(IGNORE)
    return t.made


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    os.makedirs(root, exist_ok=True)
    made = build(root, files)
    patterns = [l for l in IGNORE.splitlines() if l.strip() and not l.startswith("#")]
    print(f"{root}: {made} files (+ .dockerignore with {len(patterns)} patterns)")


if __name__ == "__main__":
    main()
