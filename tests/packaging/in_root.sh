#!/bin/sh
# Runs inside the fresh Debian 12 root that test_deb_install.py makes with
# mmdebstrap, after `apt-get install ./sswitch_*.deb`: each check writes
# NAME.out (its output) and NAME.rc (its exit status) into $1.
out=$1
mkdir -p "$out"
run() { # name command...
	name=$1; shift
	"$@" >"$out/$name.out" 2>&1
	echo $? >"$out/$name.rc"
}
run version sswitchd --version
run check sswitchd --check -c /etc/sswitch/sswitchd.conf
run ctl_version sswitchctl --version
run group getent group sswitch
run files ls -l /usr/sbin/sswitchd /usr/bin/sswitchctl /etc/sswitch/sswitchd.conf \
	/lib/systemd/system/sswitchd.service /usr/share/man/man8/sswitchd.8.gz \
	/usr/share/man/man8/sswitchctl.8.gz /usr/share/man/man5/sswitchd.conf.5.gz \
	/usr/share/bash-completion/completions/sswitchctl /usr/share/doc/sswitch/copyright
run conffiles dpkg-query -W -f '${Conffiles}\n' sswitch

# The installed daemon on the shipped config: it starts (null ports, no
# hugepages), serves the default socket, and stops cleanly on SIGTERM.
sswitchd --quiet -c /etc/sswitch/sswitchd.conf -- --file-prefix sstdeb \
	>"$out/daemon.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ]; do
	sswitchctl info >"$out/info.out" 2>&1 && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
	i=$((i + 1))
done
sswitchctl info >"$out/info.out" 2>&1
echo $? >"$out/info.rc"
stat -c '%a %G' /run/sswitch/sswitchd.sock >"$out/socket.out" 2>&1
kill -TERM $pid 2>/dev/null
wait $pid
echo $? >"$out/daemon.rc"
exit 0
