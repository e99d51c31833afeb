#!/usr/bin/env bash
# The Debian package, as an admin gets it: cpack makes onair_VERSION_ARCH.deb,
# `apt-get install ./onair_*.deb` installs it with Debian 12's own library
# packages as its dependencies, the installed binary answers --version, the
# systemd units pass `systemd-analyze verify`, and the demo channel runs from
# the installed files alone: its control-room page (share/onair/web) and its
# playlists. The package is removed at the end. Needs root; skipped (77)
# otherwise.
#   tests/package/deb_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: installing a package needs root"; exit 77; }
# Never replace (and then remove) an onair this machine has installed itself.
if dpkg-query -W -f='${Status}' onair 2>/dev/null | grep -q "install ok installed"; then
  echo "skipped: an onair package is installed here already"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }

cd "$BUILD"
rm -f onair_*.deb
cpack -G DEB > cpack.log 2>&1 || { cat cpack.log; fail "cpack"; }
deb=$(ls onair_*.deb)
echo "built $deb ($(du -h "$deb" | cut -f1))"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# (libsrt1.5-gnutls: SRT listeners are libsrt's own; callers come through libavformat59.)
for library in libavformat59 libavcodec59 libavfilter8 libswscale6 libyaml-cpp0.7 libfmt9 libsqlite3-0 \
    libsrt1.5-gnutls; do
  grep -q "$library" <<< "$depends" || fail "the package does not depend on $library"
done
contents=$(dpkg-deb -c "$deb")
grep -q './usr/share/onair/web/lib/hls.min.js' <<< "$contents" || fail "no hls.js in the package"
grep -q './lib/systemd/system/onair@.service' <<< "$contents" || fail "no systemd unit in the package"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" > apt.log 2>&1 || { cat apt.log; fail "apt-get install"; }
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq onair > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ "$(command -v onair)" = /usr/bin/onair ] || fail "onair is not /usr/bin/onair"
onair --version | grep -q "^onair " || fail "onair --version: $(onair --version 2>&1)"
onair --version

systemd-analyze verify --man=no onair@demo.service onair-schedule.service 2>&1 | tee "$work/verify.log"
[ ! -s "$work/verify.log" ] || fail "systemd-analyze verify found problems"

# The demo from the installed files, on a free port, in an empty folder.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s/127.0.0.1:8080/127.0.0.1:$port/" /usr/share/doc/onair/examples/demo.yaml > "$work/demo.yaml"
(cd "$work" && exec env -u ONAIR_WEB_ROOT onair run demo.yaml 2> "$work/onair.log") &
pid=$!
for _ in $(seq 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/live/demo/master.m3u8")" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/onair.log"; fail "the installed demo stopped"; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/live/demo/master.m3u8" | grep -q "EXT-X-STREAM-INF" || fail "no master playlist"
curl -sf "http://127.0.0.1:$port/" | grep -q 'id="player"' || fail "no control-room page"
curl -sf -o /dev/null "http://127.0.0.1:$port/ui/lib/hls.min.js" || fail "no hls.js"
grep -q "control room: http://127.0.0.1:$port/" "$work/onair.log" || fail "the page's URL is not logged"
echo "ok: the installed demo serves its page and playlists on port $port"
