"""2 MB hugepages for the benchmarks (SPEC 6): reserved when we are root and
the kernel gives them, given back afterwards, also on error, Ctrl-C or
SIGTERM.

    with Hugepages(mb_needed, force_off=args.no_huge) as hp:
        eal = hp.eal_args(mem_mb)      # --no-huge -m N, or hugepage args
        hp.used                        # True when hugepages back the runs

The pages are added on top of what the system already has reserved
(nr_hugepages), so nothing another process holds is taken; a hugetlbfs
mount (pagesize=2M) is reused when there is one, else mounted privately
and unmounted afterwards. Every DPDK process started with eal_args() has
--huge-unlink, so a killed one leaves no page behind.
"""
import os
import signal
import subprocess
import tempfile
import time

SYSFS = "/sys/kernel/mm/hugepages/hugepages-2048kB"
PAGE_MB = 2


def _read_int(path):
    with open(path) as f:
        return int(f.read().strip())


def _write_int(path, v):
    with open(path, "w") as f:
        f.write("%d\n" % v)


def _hugetlbfs_2m():
    """Mount point of a 2 MB hugetlbfs, or None."""
    try:
        with open("/proc/mounts") as f:
            for line in f:
                dev, mnt, fstype, opts = line.split()[:4]
                if fstype != "hugetlbfs":
                    continue
                if "pagesize=1G" in opts or "pagesize=1024M" in opts:
                    continue
                return mnt
    except OSError:
        pass
    return None


def _persistent():
    """The persistent pool: sysfs nr_hugepages counts surplus pages too (those
    another process took on demand, e.g. make bench-scale); writing it back
    plus our share would turn them into persistent pages that stay reserved
    after that process frees them."""
    return _read_int(os.path.join(SYSFS, "nr_hugepages")) - _read_int(os.path.join(SYSFS, "surplus_hugepages"))


class Hugepages:
    def __init__(self, mb_needed, force_off=False, log=print):
        self.mb_needed = mb_needed
        self.force_off = force_off
        self.log = log
        self.used = False
        self.reason = ""
        self.orig = None
        self.added = 0
        self.dir = None
        self.own_mount = False
        self._old_handlers = {}

    # -- life cycle ----------------------------------------------------
    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            self._reserve()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    @staticmethod
    def _on_signal(signum, frame):
        # unwinds through every finally (daemons stopped, pages given back)
        raise KeyboardInterrupt("signal %d" % signum)

    def _pages(self):
        """The 2 MB pages mb_needed takes, or None (reason set) when they
        cannot be had here at all."""
        if self.force_off:
            self.reason = "--no-huge asked"
            return None
        if os.geteuid() != 0:
            self.reason = "not root"
            return None
        if not os.path.isdir(SYSFS):
            self.reason = "no 2 MB hugepage support in this kernel"
            return None
        return (self.mb_needed + PAGE_MB - 1) // PAGE_MB

    def _reserve(self):
        pages = self._pages()
        if pages is None:
            return
        try:
            self.orig = _persistent()
            _write_int(os.path.join(SYSFS, "nr_hugepages"), self.orig + pages)
            self.added = _persistent() - self.orig
            got = _read_int(os.path.join(SYSFS, "free_hugepages"))
        except OSError as e:
            self.reason = "cannot reserve hugepages: %s" % e
            return
        if got < pages:
            self.reason = "the kernel gave %d of %d free 2 MB pages" % (got, pages)
            self._give_back()
            return
        if not self.mount("ssbench-huge"):
            return
        self.reason = "%d x 2 MB pages (%d added), hugetlbfs at %s" % (pages, self.added, self.dir)
        self.log("hugepages: %s" % self.reason)

    def mount(self, prefix):
        """Reuse a 2 MB hugetlbfs mount or mount one privately (unmounted
        by release()); False (reason set, pages given back) if neither."""
        self.dir = _hugetlbfs_2m()
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix=prefix)
            r = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", self.dir],
                               capture_output=True, text=True)
            if r.returncode != 0:
                os.rmdir(self.dir)
                self.dir = None
                self.reason = "cannot mount hugetlbfs: %s" % (r.stderr.strip() or r.returncode)
                self._give_back()
                return False
            self.own_mount = True
        self.used = True
        return True

    def _give_back(self):
        """Take back what was added (from the current count: another user
        may have changed it meanwhile); pages a leftover process still maps
        become surplus pages the kernel frees when it exits."""
        if self.orig is not None and self.added:
            path = os.path.join(SYSFS, "nr_hugepages")
            try:
                _write_int(path, max(0, _persistent() - self.added))
            except OSError as e:
                self.log("hugepages: cannot give back %d pages: %s" % (self.added, e))
            self.added = 0

    def release(self):
        if self.own_mount and self.dir:
            for name in os.listdir(self.dir):
                try:
                    os.unlink(os.path.join(self.dir, name))
                except OSError:
                    pass
            # a process being killed may still hold its pages for a moment;
            # past that, detach the mount (it goes with its last user)
            for _ in range(50):
                if subprocess.run(["umount", self.dir], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                subprocess.run(["umount", "-l", self.dir], capture_output=True)
            try:
                os.rmdir(self.dir)
            except OSError:
                pass
            self.own_mount = False
        self._give_back()
        for sig, h in self._old_handlers.items():
            signal.signal(sig, h)
        self._old_handlers = {}

    # -- what the DPDK processes get -------------------------------------
    def eal_args(self, mem_mb):
        """EAL memory arguments for a process that needs mem_mb."""
        if not self.used:
            return ["--no-huge", "-m", str(mem_mb)]
        return ["-m", str(mem_mb), "--huge-dir", self.dir, "--huge-unlink"]

    def label(self):
        return "2 MB hugepages" if self.used else "no hugepages (--no-huge: %s)" % self.reason
