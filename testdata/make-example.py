#!/usr/bin/env python3
"""Writes the example release history in testdata/manifests (unsigned).

testdata/sign-example.sh runs this, then signs everything with the test key.
The first stable build uses the real sizes and sha256 sums of Fedora Atomic
Host 28-1.1 (from ../shared/realdata's CHECKSUM file); the rest are made up
but shaped the same way.
"""
import hashlib, json, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests")
DL = "https://dl.fedoraproject.org/pub/alt/atomic/stable"

def fake(name):
    return hashlib.sha256(name.encode()).hexdigest()

def fake_size(name, base):
    return base + int(fake(name)[:6], 16)

REAL_28_1_1 = {
    "qcow2": ("Fedora-AtomicHost-28-1.1.x86_64.qcow2", 642151936, "a91e30ffc0126cecceaced79bb28ebfd5427d74236779e36419aa044b81cfda8"),
    "raw.xz": ("Fedora-AtomicHost-28-1.1.x86_64.raw.xz", 464506420, "92e49dccbe53d54724b5aa404f2a88d71cee2178312d48bd4a19b80e514643dc"),
    "vagrant-libvirt": ("Fedora-AtomicHost-Vagrant-28-1.1.x86_64.vagrant-libvirt.box", 610327687, "ebdf930ac3f350f977e009336de1857c7aebc6812eddc7d26ae49593aff77569"),
    "vagrant-virtualbox": ("Fedora-AtomicHost-Vagrant-28-1.1.x86_64.vagrant-virtualbox.box", 624721920, "2ed7d5a8dd8cbc77eea146d055f4d573677d60579ae53d237c40b8e6ff858a63"),
}

def disk(loc, size, sha, sig=True):
    d = {"location": loc, "size": size, "sha256": sha}
    if sig:
        d["signature"] = loc + ".sig"
    return d

def arch_media(compose, arch, version, base, real=None, relative=False):
    def f(kind, name, basesize):
        if real and kind in real:
            n, size, sha = real[kind]
            return disk(f"{base}/{compose}/{arch}/{n}", size, sha)
        loc = f"{compose}/{arch}/{name}" if relative else f"{base}/{compose}/{arch}/{name}"
        return disk(loc, fake_size(name, basesize), fake(name))
    v = f"{version}.{arch}"
    media = {
        "qemu": {"artifacts": {"qcow2": {"disk": f("qcow2", f"Fedora-AtomicHost-{v}.qcow2", 600_000_000)}}},
        "metal": {"artifacts": {
            "raw.xz": {"disk": f("raw.xz", f"Fedora-AtomicHost-{v}.raw.xz", 450_000_000)},
            "iso": {"disk": f("iso", f"Fedora-AtomicHost-ostree-{v}.iso", 700_000_000)},
            "pxe": {
                "kernel": f("kernel", f"Fedora-AtomicHost-{v}-vmlinuz", 8_000_000),
                "initramfs": f("initramfs", f"Fedora-AtomicHost-{v}-initramfs.img", 60_000_000),
                "rootfs": f("rootfs", f"Fedora-AtomicHost-{v}-rootfs.img", 500_000_000),
            },
        }},
    }
    if arch == "x86_64":
        media["vagrant"] = {"artifacts": {
            "vagrant-libvirt": {"disk": f("vagrant-libvirt", f"Fedora-AtomicHost-Vagrant-{v}.vagrant-libvirt.box", 600_000_000)},
            "vagrant-virtualbox": {"disk": f("vagrant-virtualbox", f"Fedora-AtomicHost-Vagrant-{v}.vagrant-virtualbox.box", 610_000_000)},
        }}
        h = int(fake(compose)[:8], 16)
        media["aws"] = {"images": {
            "us-east-1": {"image": "ami-%08x" % h},
            "eu-west-1": {"image": "ami-%08x" % (h ^ 0x5a5a5a5a)},
            "ap-northeast-1": {"image": "ami-%08x" % (h ^ 0x3c3c3c3c)},
        }}
    return {"media": media}

def build(stream, release, date, title, version, status="released", archs=("x86_64",),
          real=None, relative=False, notes="", tracker=None, tests=True):
    compose = f"Fedora-Atomic-{release}"
    m = {
        "schema": "atomic-release/v1",
        "stream": stream,
        "release": release,
        "title": title,
        "build-date": date,
        "status": status,
    }
    if tests:
        m["tests"] = f"https://openqa.fedoraproject.org/tests/overview?build={compose}"
    if tracker:
        m["failure-tracker"] = tracker
    if notes:
        m["notes"] = notes
    m["ostree"] = {
        "repo": "https://kojipkgs.fedoraproject.org/atomic/repo/",
        "ref": f"fedora/28/x86_64/atomic-host" if stream == "stable" else "fedora/28/x86_64/testing/atomic-host",
        "commit": fake("commit " + release),
    }
    m["architectures"] = {a: arch_media(compose, a, version, DL, real if a == "x86_64" else None, relative) for a in archs}
    d = os.path.join(ROOT, stream)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, release + ".json"), "w") as fh:
        json.dump(m, fh, indent=2)
        fh.write("\n")

F28 = "Fedora Atomic Host 28"
build("stable", "28.20180425.0", "2018-04-25T06:12:00Z", F28, "28-1.1", real=REAL_28_1_1,
      notes="First release of **Fedora Atomic Host 28**.\n\n- podman 0.4\n- kernel 4.16\n\nSee the [release notes](https://fedoramagazine.org/announcing-fedora-28/).")
build("stable", "28.20180508.0", "2018-05-08T05:40:00Z", F28, "28-20180508.0",
      notes="Two-week refresh: kernel 4.16.7, docker 1.13.1-56.\n\n<script>alert('notes are escaped')</script>")
build("stable", "28.20180522.0", "2018-05-22T05:51:00Z", F28, "28-20180522.0",
      notes="Two-week refresh: kernel 4.16.11.")
build("stable", "28.20180605.0", "2018-06-05T05:33:00Z", F28, "28-20180605.0", status="failed",
      tracker="https://bugzilla.redhat.com/show_bug.cgi?id=1587510")
T = "Fedora Atomic Host 28, testing"
build("testing", "28.20180515.1", "2018-05-15T07:02:00Z", T, "28-20180515.1", archs=("x86_64", "aarch64"), relative=True)
build("testing", "28.20180529.1", "2018-05-29T07:10:00Z", T, "28-20180529.1", archs=("x86_64", "aarch64"), relative=True)
build("testing", "28.20180604.1", "2018-06-04T06:55:00Z", T, "28-20180604.1", archs=("x86_64", "aarch64"), relative=True,
      notes="Candidate for the next two-week release.")
