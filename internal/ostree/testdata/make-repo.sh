#!/bin/sh
# Writes testdata/repo: a small archive repository made by the real ostree,
# whose objects the GVariant readers are tested against. Run from
# internal/ostree; the result is checked in.
set -eu
rm -rf testdata/repo
ostree --repo=testdata/repo init --mode=archive
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/usr/bin" "$tree/usr/share/doc/atomic" "$tree/etc"
printf 'hello\n' > "$tree/usr/bin/hello"
chmod 755 "$tree/usr/bin/hello"
printf 'Fedora Atomic Host\n' > "$tree/usr/share/doc/atomic/README"
printf 'NAME=Fedora\n' > "$tree/etc/os-release"
ln -s ../usr/share/doc "$tree/etc/doc"
ostree --repo=testdata/repo commit -b fedora/28/x86_64/atomic-host -s "first" --timestamp=2018-06-04T00:00:00Z --owner-uid=0 --owner-gid=0 "$tree"
printf 'Fedora Atomic Host 28\n' > "$tree/usr/share/doc/atomic/README"
mkdir -p "$tree/var/lib/empty"
ostree --repo=testdata/repo commit -b fedora/28/x86_64/atomic-host -s "second" --timestamp=2018-06-18T00:00:00Z --owner-uid=0 --owner-gid=0 "$tree"
ostree --repo=testdata/repo commit -b fedora/28/x86_64/testing -s "testing" --timestamp=2018-06-19T00:00:00Z --owner-uid=0 --owner-gid=0 "$tree"
first=$(ostree --repo=testdata/repo rev-parse fedora/28/x86_64/atomic-host^)
ostree --repo=testdata/repo static-delta generate --from="$first" --to=fedora/28/x86_64/atomic-host
ostree --repo=testdata/repo summary -u
rm -rf testdata/repo/tmp/* testdata/repo/state testdata/repo/.lock
